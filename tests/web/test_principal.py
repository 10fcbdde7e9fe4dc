"""One place resolves the caller (cookie now, API key next), and CSRF follows from it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from cryptolens.domain.plans import Plan
from cryptolens.web.access import public
from cryptolens.web.envelope import api_success
from cryptolens.web.principal import (
    ANONYMOUS,
    AuthMethod,
    Principal,
    current_principal,
    set_api_key_resolver,
)
from tests.web.accounts_helpers import csrf_token, make_user, sign_in

GOOD_KEY = "cl_test_key"
KEY_PRINCIPAL = Principal(
    user_id=42,
    plan=Plan.PREMIUM,
    role="user",
    scopes=frozenset({"signals:read", "portfolio:write"}),
    method=AuthMethod.API_KEY,
    verified=True,
)


def _whoami() -> object:
    principal = current_principal()
    return api_success(
        {
            "user_id": principal.user_id,
            "plan": principal.plan.value,
            "role": principal.role,
            "method": principal.method.value,
            "session": principal.session_id is not None,
            "scopes": sorted(principal.scopes),
        }
    )


@public
def _public_whoami() -> object:
    return _whoami()


def _with_test_routes(app: Flask) -> Flask:
    """A public read and a signed-in write under /api, and a stubbed key resolver."""
    app.add_url_rule("/api/test/whoami", "test_whoami", _public_whoami)
    app.add_url_rule("/api/test/write", "test_write", _whoami, methods=["POST"])
    set_api_key_resolver(app, lambda key: KEY_PRINCIPAL if key == GOOD_KEY else None)
    return app


def test_an_anonymous_caller_is_the_anonymous_principal(app: Flask, client: FlaskClient) -> None:
    _with_test_routes(app)
    data = client.get("/api/test/whoami").get_json()["data"]
    assert data["method"] == "anonymous"
    assert data["user_id"] is None
    assert data["plan"] == "free"
    assert not ANONYMOUS.is_authenticated


def test_a_session_cookie_resolves_to_the_users_principal(app: Flask, client: FlaskClient) -> None:
    _with_test_routes(app)
    user = make_user(app, "cookie@example.com", plan="pro")
    sign_in(client, user)
    data = client.get("/api/test/whoami").get_json()["data"]
    assert data["method"] == "session"
    assert data["user_id"] == user.id
    assert data["plan"] == "pro"
    assert data["role"] == "user"
    assert data["session"] is True


def test_an_api_key_resolves_through_the_stubbed_resolver(app: Flask, client: FlaskClient) -> None:
    _with_test_routes(app)
    data = client.get("/api/test/whoami", headers={"X-API-Key": GOOD_KEY}).get_json()["data"]
    assert data["method"] == "api_key"
    assert data["user_id"] == 42
    assert data["scopes"] == ["portfolio:write", "signals:read"]
    assert data["session"] is False


def test_an_unknown_api_key_is_refused_with_the_envelope(app: Flask, client: FlaskClient) -> None:
    _with_test_routes(app)
    answer = client.get("/api/test/whoami", headers={"X-API-Key": "not-a-key"})
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "The API key is not valid."


def test_a_made_up_key_authenticates_nobody(app: Flask, client: FlaskClient) -> None:
    answer = client.get("/api/chart/zones?symbol=BTC/USDT", headers={"X-API-Key": GOOD_KEY})
    assert answer.status_code == 401


def test_a_cookie_authenticated_write_under_api_needs_a_csrf_token(
    app: Flask, client: FlaskClient
) -> None:
    _with_test_routes(app)
    sign_in(client, make_user(app, "writer@example.com"))
    refused = client.post("/api/test/write")
    assert refused.status_code == 403
    assert refused.get_json()["success"] is False
    assert "CSRF" in refused.get_json()["error"]
    token = csrf_token(client, "/account/")
    accepted = client.post("/api/test/write", headers={"X-CSRFToken": token})
    assert accepted.status_code == 200
    assert accepted.get_json()["data"]["method"] == "session"


def test_a_key_authenticated_write_under_api_needs_no_csrf_token(
    app: Flask, client: FlaskClient
) -> None:
    _with_test_routes(app)
    answer = client.post("/api/test/write", headers={"X-API-Key": GOOD_KEY})
    assert answer.status_code == 200
    assert answer.get_json()["data"]["method"] == "api_key"


def test_an_anonymous_write_under_api_needs_a_csrf_token(app: Flask, client: FlaskClient) -> None:
    _with_test_routes(app)
    assert client.post("/api/test/write").status_code == 403


def test_an_api_key_does_not_sign_anyone_in_to_the_pages(app: Flask, client: FlaskClient) -> None:
    _with_test_routes(app)
    answer = client.get("/account/", headers={"X-API-Key": GOOD_KEY})
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/auth/login")
