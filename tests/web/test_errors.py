from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from cryptolens import create_app
from cryptolens.db.errors import ErrorGroup
from cryptolens.db.models import Setting
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.extensions import db
from cryptolens.web.access import public
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import post_form


@pytest.fixture
def bare_app(tmp_path: Path) -> Flask:
    app = create_app(make_settings(instance_dir=tmp_path))

    @app.get("/api/boom")
    @public
    def api_boom() -> str:
        raise RuntimeError("secret internals /etc/passwd")

    @app.get("/boom")
    @public
    def page_boom() -> str:
        raise RuntimeError("secret internals /etc/passwd")

    @app.get("/api/invalid")
    @public
    def api_invalid() -> str:
        raise ValidationError("limit must be at most 1000")

    @app.get("/missing-thing")
    @public
    def page_missing() -> str:
        raise NotFoundError("no such symbol")

    return app


def test_api_404_answers_in_the_envelope(bare_app: Flask) -> None:
    answer = bare_app.test_client().get("/api/does-not-exist")
    assert answer.status_code == 404
    body = answer.get_json()
    assert set(body) == {"success", "data", "error", "meta"}
    assert body["success"] is False
    assert body["data"] is None
    assert body["error"]
    assert set(body["meta"]) >= {"timestamp", "request_id"}
    assert body["meta"]["request_id"] == answer.headers["X-Request-ID"]


def test_page_404_is_an_html_page(bare_app: Flask) -> None:
    answer = bare_app.test_client().get("/does-not-exist")
    assert answer.status_code == 404
    assert answer.mimetype == "text/html"
    assert "404" in answer.text


def test_unexpected_api_error_is_a_500_envelope_without_internals(bare_app: Flask) -> None:
    answer = bare_app.test_client().get("/api/boom")
    assert answer.status_code == 500
    body = answer.get_json()
    assert body["success"] is False
    assert "secret internals" not in answer.text
    assert "Traceback" not in answer.text


def test_unexpected_page_error_is_an_html_page_without_internals(bare_app: Flask) -> None:
    answer = bare_app.test_client().get("/boom")
    assert answer.status_code == 500
    assert answer.mimetype == "text/html"
    assert "secret internals" not in answer.text
    assert "Traceback" not in answer.text


def test_domain_errors_map_to_their_status(bare_app: Flask) -> None:
    client = bare_app.test_client()
    invalid = client.get("/api/invalid")
    assert invalid.status_code == 400
    assert invalid.get_json()["error"] == "limit must be at most 1000"
    missing = client.get("/missing-thing")
    assert missing.status_code == 404
    assert "no such symbol" in missing.text


def test_wrong_method_is_405_with_allow_header(bare_app: Flask) -> None:
    answer = bare_app.test_client().post("/api/health/live")
    assert answer.status_code == 405
    assert "GET" in answer.headers["Allow"]
    assert answer.get_json()["success"] is False


def test_a_safe_incoming_request_id_is_echoed_and_an_unsafe_one_replaced(bare_app: Flask) -> None:
    client = bare_app.test_client()
    echoed = client.get("/api/health/live", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    assert echoed.get_json()["meta"]["request_id"] == "abc-123"
    replaced = client.get("/api/health/live", headers={"X-Request-ID": "bad id; <script>"})
    assert replaced.headers["X-Request-ID"] != "bad id; <script>"
    assert len(replaced.headers["X-Request-ID"]) == 32


def _boom_app(app: Flask) -> Flask:
    @app.route("/boom-tracked", methods=["GET", "POST"])
    @public
    def boom_tracked() -> str:
        raise RuntimeError("tracked failure")

    return app


def _stored_groups(app: Flask) -> list[ErrorGroup]:
    with app.app_context():
        return list(db.session.scalars(select(ErrorGroup)))


def test_an_unexpected_page_error_is_tracked_once_per_fingerprint(app: Flask) -> None:
    client = _boom_app(app).test_client()
    assert client.get("/boom-tracked").status_code == 500
    assert client.get("/boom-tracked", headers={"X-Request-ID": "req-42"}).status_code == 500
    [group] = _stored_groups(app)
    assert (group.exc_type, group.function, group.count, group.source) == (
        "RuntimeError",
        "boom_tracked",
        2,
        "web",
    )
    assert group.context is not None
    assert group.context["path"] == "/boom-tracked"
    assert group.context["request_id"] == "req-42"
    assert "tracked failure" in group.traceback


def test_a_tracked_request_keeps_no_password_cookie_api_key_or_authorization(
    app: Flask,
) -> None:
    client = _boom_app(app).test_client()
    client.set_cookie("remember_token", "sekrit-remember")
    answer = post_form(
        client,
        "/boom-tracked?token=sekrit-query",
        {"email": "a@example.com", "password": "sekrit-password"},
        headers={
            "Authorization": "Bearer sekrit-bearer",
            "X-API-Key": "sekrit-api-key",
        },
    )
    assert answer.status_code == 500
    [group] = _stored_groups(app)
    stored = json.dumps(group.context) + group.traceback + group.message
    assert "sekrit" not in stored
    assert group.context is not None
    assert group.context["form"]["email"] == "a@example.com"


def test_an_error_after_a_write_is_still_tracked(app: Flask) -> None:
    """The failed request's open transaction (a SQLite write lock) is rolled back first."""

    @app.get("/boom-after-write")
    @public
    def boom_after_write() -> str:
        db.session.add(Setting(key="half-done", value="1"))
        db.session.flush()
        raise RuntimeError("after a write")

    assert app.test_client().get("/boom-after-write").status_code == 500
    with app.app_context():
        assert db.session.get(Setting, "half-done") is None
    [group] = _stored_groups(app)
    assert group.function == "boom_after_write"
