"""The account's API keys page: create (shown once), list with usage, revoke, rotate."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.db.api_keys import ApiKey
from cryptolens.extensions import db
from cryptolens.services.accounts.api_usage import flush_usage
from cryptolens.web.api_key_auth import usage_counter
from tests.web.accounts_helpers import make_user, post_form, sign_in

PAGE = "/account/api-keys"
_KEY = re.compile(r'id="new-key-value">(cl_[^<]+)<')


def _client(app: Flask, email: str, **kwargs: object) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, make_user(app, email, **kwargs)).status_code == 302  # type: ignore[arg-type]
    return client


def _create(client: FlaskClient, **fields: str | list[str]) -> tuple[int, str]:
    data: dict[str, str | list[str]] = {"name": "bot", "scopes": ["read:signals"], **fields}
    answer = post_form(client, PAGE, data, form_path=PAGE)  # type: ignore[arg-type]
    match = _KEY.search(answer.text)
    return answer.status_code, match.group(1) if match else ""


def _keys(app: Flask) -> list[ApiKey]:
    with app.app_context():
        rows = list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))
        db.session.expunge_all()
        return rows


def test_a_premium_user_creates_a_key_shown_once(app: Flask) -> None:
    client = _client(app, "bot@example.com", plan="premium")
    status, key = _create(
        client,
        scopes=["read:signals", "write:scan"],
        expires="2099-06-30",
        allow="10.0.0.0/8\n2001:db8::/32",
        deny="10.6.6.6",
        per_minute="20",
    )
    assert status == 201
    assert key.startswith("cl_")
    (row,) = _keys(app)
    assert row.scopes == ["read:signals", "write:scan"]
    assert row.allow == ["10.0.0.0/8", "2001:db8::/32"]
    assert row.limit_minute == 20
    assert row.expires_at == datetime(2099, 6, 30, tzinfo=UTC)
    again = client.get(PAGE).text
    assert key[:15] in again  # the prefix stays visible
    assert key[16:] not in again  # the secret never again
    headers = {"X-API-Key": key}
    answer = app.test_client().get(
        "/api/health", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}
    )
    assert answer.status_code == 200


def test_bad_fields_are_named_and_nothing_is_created(app: Flask) -> None:
    client = _client(app, "bot@example.com", plan="premium")
    cases = {
        "Choose at least one scope": {"scopes": []},
        "admin:symbols is for administrators": {"scopes": ["admin:symbols"]},
        "expires: a date": {"expires": "next week"},
        "per_hour: a whole number": {"per_hour": "-5"},
        "per minute may be at most 200": {"per_minute": "201"},
        "deny: &#39;300.1.1.1&#39; is not an IP address": {"deny": "300.1.1.1"},
    }
    for message, fields in cases.items():
        data = {"name": "x", "scopes": ["read:signals"], **fields}
        answer = post_form(client, PAGE, data, form_path=PAGE)  # type: ignore[arg-type]
        assert answer.status_code in (400, 403), message
        assert message in answer.text, message
    assert _keys(app) == []


def test_free_and_pro_users_see_why_they_cannot_create_keys(app: Flask) -> None:
    for email, plan in (("free@example.com", None), ("pro@example.com", "pro")):
        client = _client(app, email, plan=plan)
        page = client.get(PAGE)
        assert page.status_code == 200
        assert 'id="api-needs-premium"' in page.text
        assert 'name="scopes"' not in page.text
        assert _create(client)[0] == 403


def test_premium_users_may_choose_the_backtest_scopes(app: Flask) -> None:
    client = _client(app, "quant@example.com", plan="premium")
    page = client.get(PAGE).text
    assert 'value="read:backtest"' in page
    assert 'value="write:backtest"' in page
    assert 'value="admin:scheduler"' not in page
    assert _create(client, scopes=["read:backtest", "write:backtest"])[0] == 201
    (row,) = _keys(app)
    assert row.scopes == ["read:backtest", "write:backtest"]


def test_admins_may_choose_admin_scopes(app: Flask) -> None:
    client = _client(app, "root@example.com", admin=True)
    assert 'value="admin:scheduler"' in client.get(PAGE).text
    assert _create(client, scopes=["admin:scheduler"])[0] == 201


def test_only_the_owner_can_revoke_or_rotate_a_key(app: Flask) -> None:
    owner = _client(app, "bot@example.com", plan="premium")
    _create(owner)
    (row,) = _keys(app)
    other = _client(app, "other@example.com", plan="premium")
    for action in ("revoke", "rotate"):
        answer = post_form(other, f"{PAGE}/{row.id}/{action}", form_path=PAGE)
        assert answer.status_code == 404
    assert _keys(app)[0].revoked_at is None
    assert len(_keys(app)) == 1


def test_revoke_from_the_page(app: Flask) -> None:
    client = _client(app, "bot@example.com", plan="premium")
    _, key = _create(client)
    (row,) = _keys(app)
    answer = post_form(client, f"{PAGE}/{row.id}/revoke", form_path=PAGE)
    assert answer.status_code == 200
    assert "is revoked" in answer.text
    assert app.test_client().get("/api/health", headers={"X-API-Key": key}).status_code == 403


def test_rotate_from_the_page_shows_the_new_key_and_keeps_the_old_for_the_grace(
    app: Flask,
) -> None:
    client = _client(app, "bot@example.com", plan="premium")
    _, old = _create(client)
    (row,) = _keys(app)
    answer = post_form(client, f"{PAGE}/{row.id}/rotate", {"grace_hours": "5"}, form_path=PAGE)
    assert answer.status_code == 201
    match = _KEY.search(answer.text)
    assert match
    new = match.group(1)
    assert new != old
    api = app.test_client()
    assert api.get("/api/health", headers={"X-API-Key": old}).status_code == 200
    assert api.get("/api/health", headers={"X-API-Key": new}).status_code == 200
    assert "rotated until" in client.get(PAGE).text
    bad = post_form(client, f"{PAGE}/{row.id}/rotate", {"grace_hours": "lots"}, form_path=PAGE)
    assert bad.status_code == 400


def test_the_page_shows_last_use_and_requests_per_day(app: Flask) -> None:
    client = _client(app, "bot@example.com", plan="premium")
    _, key = _create(client)
    api = app.test_client()
    for _ in range(3):
        api.get(
            "/api/health", headers={"X-API-Key": key}, environ_base={"REMOTE_ADDR": "192.0.2.9"}
        )
    with app.app_context(), Session(db.engine) as session:
        flush_usage(session, usage_counter(app))
    page = client.get(PAGE).text
    assert "UTC from 192.0.2.9" in page
    today = datetime.now(UTC).date().isoformat()
    assert f'<span title="{today}">3</span>' in page
