"""The admin dashboard's quick actions with their outcome, the queues page without Redis,
and the audit row every admin action writes."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cryptolens.db.audit import AuditEntry
from cryptolens.extensions import cache, db
from cryptolens.services.ops.runtime_settings import load_runtime
from tests.web.accounts_helpers import Person, make_user, post_form, sign_in


def _audit(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        db.session.expunge_all()
        return rows


def _admin(app: Flask, client: FlaskClient) -> Person:
    boss = make_user(app, "boss@example.com", admin=True)
    sign_in(client, boss)
    return boss


def _act(client: FlaskClient, name: str) -> str:
    answer = post_form(client, f"/admin/actions/{name}", form_path="/admin/")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/admin/")
    return client.get("/admin/").text


def test_the_dashboard_offers_the_quick_actions_and_groups_the_navigation(
    app: Flask, client: FlaskClient
) -> None:
    _admin(app, client)
    page = client.get("/admin/").text
    for name in ("scan", "fetch", "db_health", "clear_caches", "pause"):
        assert f'id="action-{name}"' in page
    assert 'id="action-resume"' not in page  # the scheduler runs
    for title in ("Users", "Broadcast", "Jobs &amp; schedule", "Audit log", "Settings"):
        assert f">{title}</a>" in page
    assert 'id="no-redis"' in page  # no Redis in tests: said plainly


def test_links_to_pages_this_app_lacks_are_left_out(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    page = client.get("/admin/").text
    for endpoint in ("admin.errors", "admin.payments", "admin.symbols", "admin.logs"):
        if endpoint not in app.view_functions:
            assert f'/admin/{endpoint.split(".")[1]}"' not in page


def test_clear_caches_empties_the_cache_and_says_so(app: Flask, client: FlaskClient) -> None:
    boss = _admin(app, client)
    with app.app_context():
        cache.set("matrix:x=1", "<p>old</p>", timeout=60)
    page = _act(client, "clear_caches")
    with app.app_context():
        assert cache.get("matrix:x=1") is None
    assert 'id="action-result"' in page
    assert "Clear caches: done" in page
    assert "Page caches cleared" in page
    (row,) = _audit(app)
    assert (row.action, row.actor_id, row.actor_email) == (
        "action.clear_caches",
        boss.id,
        boss.email,
    )
    assert row.client_ip == "127.0.0.1"
    # The panel shows once.
    assert 'id="action-result"' not in client.get("/admin/").text


def test_pause_and_resume_set_the_flag_the_scheduler_reads(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    page = _act(client, "pause")
    with app.app_context():
        assert load_runtime(db.session()).scheduler_paused
    assert '<dd id="scheduler-state">paused</dd>' in page
    assert 'id="action-resume"' in page
    page = _act(client, "resume")
    with app.app_context():
        assert not load_runtime(db.session()).scheduler_paused
    assert '<dd id="scheduler-state">running</dd>' in page
    assert [r.action for r in _audit(app)] == ["scheduler.pause", "scheduler.resume"]


def test_scan_fetch_and_health_with_nothing_watched_report_their_outcome(
    app: Flask, client: FlaskClient
) -> None:
    _admin(app, client)
    assert "queued for 0 watched symbols" in _act(client, "scan")
    assert "queued for 0 watched symbols" in _act(client, "fetch")
    assert "Database health checked" in _act(client, "db_health")
    assert [r.action for r in _audit(app)] == ["action.scan", "action.fetch", "action.db_health"]


def test_an_unknown_action_is_a_404(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    answer = post_form(client, "/admin/actions/format_disk", form_path="/admin/")
    assert answer.status_code == 404
    assert _audit(app) == []


def test_without_redis_the_queues_page_says_so_and_retry_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    _admin(app, client)
    assert "No Redis" in client.get("/admin/queues").text
    answer = post_form(client, "/admin/queues/jobs/abc/retry", form_path="/admin/queues")
    assert answer.status_code == 302
    assert "REDIS_URL is not set" in client.get("/admin/queues").text
    bad = post_form(client, "/admin/queues/jobs/abc/explode", form_path="/admin/queues")
    assert bad.status_code == 404


def test_users_are_searched_and_paged(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    for n in range(30):
        make_user(app, f"trader{n:02d}@example.com")
    page = client.get("/admin/users?q=TRADER0").text
    assert "10 users matching" in page
    assert "trader05@example.com" in page
    assert "trader15@example.com" not in page
    first = client.get("/admin/users").text
    assert "31 users" in first
    assert "page 1 of 2" in first
    second = client.get("/admin/users?page=2").text
    assert "trader29@example.com" in second
    assert "trader00@example.com" not in second
    assert "page 2 of 2" in client.get("/admin/users?page=99").text
    assert client.get("/admin/users?q=%25").text.count("@example.com</td>") == 0


def test_mark_verified_and_grant_with_reason_are_audited(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    newcomer = make_user(app, "new@example.com", verified=False)
    answer = post_form(client, f"/admin/users/{newcomer.id}/verified", form_path="/admin/users")
    assert answer.status_code == 302
    assert "is now verified" in client.get("/admin/users").text
    no_reason = post_form(
        client,
        f"/admin/users/{newcomer.id}/subscription",
        {"plan": "pro", "days": "30", "reason": " "},
        form_path="/admin/users",
    )
    assert no_reason.status_code == 400
    granted = post_form(
        client,
        f"/admin/users/{newcomer.id}/subscription",
        {"plan": "pro", "days": "30", "reason": "conference speaker"},
        form_path="/admin/users",
    )
    assert granted.status_code == 302
    assert "<td>pro</td>" in client.get("/admin/users").text
    missing = post_form(
        client,
        "/admin/users/999999/subscription",
        {"plan": "pro", "reason": "x"},
        form_path="/admin/users",
    )
    assert missing.status_code == 404
    rows = _audit(app)
    assert [r.action for r in rows] == ["user.mark_verified", "user.grant_plan"]
    assert rows[1].target == str(newcomer.id)
    assert json.loads(rows[1].details) == {
        "days": 30,
        "plan": "pro",
        "reason": "conference speaker",
    }


def test_the_audit_log_page_shows_rows_a_page_at_a_time(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    for _ in range(3):
        _act(client, "clear_caches")
    page = client.get("/admin/audit").text
    assert page.count("<td>action.clear_caches</td>") == 3
    assert "boss@example.com" in page
    assert "page 1 of 1" in client.get("/admin/audit?page=x").text


def test_a_quick_action_without_the_csrf_token_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    _admin(app, client)
    answer = client.post("/admin/actions/pause", data={})
    assert answer.status_code == 403  # the app's answer to a missing or stale CSRF token
    with app.app_context():
        assert not load_runtime(db.session()).scheduler_paused
    assert _audit(app) == []
