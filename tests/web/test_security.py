from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.extensions import db
from cryptolens.web import security
from cryptolens.web.symbols.routes import VENDOR_FILES
from tests.web.accounts_helpers import csrf_token, make_user, post_form, sign_in


def test_a_form_post_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    assert app.config["WTF_CSRF_ENABLED"] is True
    user = make_user(app, "csrf@example.com")
    refused = client.post("/auth/login", data={"email": user.email, "password": user.password})
    assert refused.status_code == 403  # refused, not malformed (issue 11 #11)
    assert "CSRF" in refused.text
    forged = client.post(
        "/auth/login",
        data={"email": user.email, "password": user.password, "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    assert sign_in(client, user).status_code == 302


def test_a_token_from_another_session_does_not_work(app: Flask) -> None:
    user = make_user(app, "csrf2@example.com")
    attacker, victim = app.test_client(), app.test_client()
    sign_in(victim, user)
    stolen = csrf_token(attacker)
    answer = victim.post("/account/sessions/revoke", data={"csrf_token": stolen})
    assert answer.status_code == 403


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    for path in ("/auth/login", "/api/health", "/", "/does-not-exist"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers


def test_hsts_only_over_https(client: FlaskClient) -> None:
    secure = client.get("/auth/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_templates_hold_no_inline_script_or_style(client: FlaskClient) -> None:
    page = client.get("/auth/register").text
    assert "<script" not in page
    assert "<style" not in page
    assert " style=" not in page


def test_signing_in_does_not_keep_the_anonymous_session(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "fixation@example.com")
    before = csrf_token(client)
    sign_in(client, user)
    assert post_form(client, "/account/sessions/revoke", form_path="/account/").status_code == 200
    assert client.post("/account/sessions/revoke", data={"csrf_token": before}).status_code == 403


def test_the_csp_allows_only_the_chart_librarys_own_attribution_style() -> None:
    """The style hash in the policy is the one lightweight-charts' <style> element has."""
    name = "lightweight-charts.standalone.production.js"
    assert name in VENDOR_FILES
    vendor = Path(security.__file__).parent / "static/vendor" / name
    if not vendor.exists():
        pytest.skip("lightweight-charts not copied: run make install")
    source = vendor.read_text(encoding="utf-8")
    found = re.search(r'createElement\("style"\),this\.\w+\.innerText="([^"]*)"', source)
    assert found, "lightweight-charts no longer adds its attribution <style>: drop the hash"
    digest = base64.b64encode(hashlib.sha256(found.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" == security.CHART_ATTRIBUTION_STYLE
    assert "unsafe-inline" not in security.CONTENT_SECURITY_POLICY


@pytest.fixture
def hosted_app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings.model_copy(update={"trusted_hosts": ("app.example",)}))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/auth/forgot", "/", "/account/"])
def test_a_request_for_an_untrusted_host_is_refused_with_a_page(
    hosted_app: Flask, path: str
) -> None:
    answer = hosted_app.test_client().get(path, headers={"Host": "evil.example"})
    assert answer.status_code == 400
    assert "Host" in answer.text or "host" in answer.text
    assert "evil.example" not in answer.headers.get("Location", "")


def test_an_untrusted_host_under_api_gets_the_json_envelope(hosted_app: Flask) -> None:
    answer = hosted_app.test_client().get("/api/health", headers={"Host": "evil.example"})
    assert answer.status_code == 400
    assert answer.get_json()["success"] is False


def test_a_trusted_host_is_served(hosted_app: Flask) -> None:
    answer = hosted_app.test_client().get("/auth/login", headers={"Host": "app.example:8443"})
    assert answer.status_code == 200


def test_development_answers_only_to_local_host_names(client: FlaskClient) -> None:
    assert client.get("/auth/login").status_code == 200  # the test client's "localhost"
    assert client.get("/auth/login", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    assert client.get("/auth/login", headers={"Host": "evil.example"}).status_code == 400


def test_every_response_denies_browser_features_it_does_not_use(client: FlaskClient) -> None:
    for path in ("/auth/login", "/api/health", "/does-not-exist"):
        policy = client.get(path).headers["Permissions-Policy"]
        assert "camera=()" in policy
        assert "geolocation=()" in policy
        assert "microphone=()" in policy


def test_pages_may_connect_to_a_stream_gateway_on_its_own_origin_and_nowhere_else(
    settings: Settings, migrated_engine: object
) -> None:
    same = create_app(settings)
    own = create_app(settings.model_copy(update={"stream_public_url": "http://127.0.0.1:5001"}))
    try:
        policy = same.test_client().get("/auth/login").headers["Content-Security-Policy"]
        assert "connect-src 'self';" in policy  # /stream on the site itself
        policy = own.test_client().get("/auth/login").headers["Content-Security-Policy"]
        assert "connect-src 'self' http://127.0.0.1:5001;" in policy
    finally:
        for application in (same, own):
            with application.app_context():
                db.session.remove()
                db.engine.dispose()
