from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.extensions import db
from cryptolens.services.accounts.accounts import set_active
from cryptolens.services.accounts.passwords import Passwords
from tests.web.accounts_helpers import make_user, post_form, sign_in, without_csrf_token


def _login(client: FlaskClient, email: str, password: str, ip: str = "127.0.0.1") -> TestResponse:
    return post_form(
        client,
        "/auth/login",
        {"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_signing_in_reaches_the_dashboard_and_signing_out_leaves(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "trader@example.com")
    answer = sign_in(client, user)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    assert client.get("/account/").status_code == 200
    assert post_form(client, "/auth/logout").status_code == 302
    assert client.get("/account/").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(
    app: Flask, client: FlaskClient
) -> None:
    make_user(app, "known@example.com")
    wrong = _login(client, "known@example.com", "not the password at all")
    unknown = _login(client, "nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert "Email or password is incorrect." in wrong.text
    same_page = without_csrf_token(wrong.text).replace("known@", "X@")
    assert same_page == without_csrf_token(unknown.text).replace("nobody@", "X@")


def test_unknown_emails_cost_the_same_hashing_as_known_ones(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time an answer takes is the argon2 verification; an unknown email must pay it
    too (against a dummy hash), or the answer time would tell which emails exist."""
    make_user(app, "timed@example.com")
    verified: list[str | None] = []
    real_verify = Passwords.verify

    def counting(self: Passwords, stored: str | None, password: str) -> bool:
        verified.append(stored)
        return real_verify(self, stored, password)

    monkeypatch.setattr(Passwords, "verify", counting)
    _login(client, "timed@example.com", "a wrong password here", ip="10.1.0.1")
    known = list(verified)
    verified.clear()
    _login(client, "ghost@example.com", "a wrong password here", ip="10.2.0.1")
    assert len(known) == len(verified) == 1
    assert known[0] is not None  # the user's own hash ...
    assert verified[0] is None  # ... and, for nobody, the dummy one


def test_failures_throttle_that_email_from_that_client_alike_for_unknown_emails(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "victim@example.com")
    for _ in range(5):
        assert _login(client, user.email, "wrong password!!").status_code == 400
        assert _login(client, "ghost@example.com", "wrong password!!").status_code == 400
    blocked = _login(client, user.email, user.password)
    ghost = _login(client, "ghost@example.com", "wrong password!!")
    assert blocked.status_code == ghost.status_code == 429
    assert "Too many attempts" in blocked.text
    # The owner, from their own address, is not locked out by those failures.
    assert (
        _login(app.test_client(), user.email, user.password, ip="198.51.100.7").status_code == 302
    )


def test_a_distributed_attack_cannot_lock_out_the_owners_known_browser(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "owner@example.com")
    owner = app.test_client()
    assert _login(owner, user.email, user.password, ip="192.0.2.1").status_code == 302
    post_form(owner, "/auth/logout")
    for i in range(30):  # 30 addresses, one failure each: the per-account bucket fills
        _login(client, user.email, "wrong password!!", ip=f"203.0.113.{i}")
    assert (
        _login(app.test_client(), user.email, user.password, ip="203.0.113.200").status_code == 429
    )
    assert _login(owner, user.email, user.password, ip="192.0.2.1").status_code == 302


def test_per_ip_limit_stops_spraying_many_emails(app: Flask, client: FlaskClient) -> None:
    answers = [
        _login(client, f"spray{i}@example.com", "wrong password!!").status_code for i in range(21)
    ]
    assert answers[:20] == [400] * 20
    assert answers[20] == 429


def test_per_ip_limits_see_the_forwarded_client_behind_a_trusted_proxy(
    settings: Settings,
) -> None:
    proxied = create_app(settings.model_copy(update={"trusted_proxies": 1}))
    client = proxied.test_client()
    for i in range(20):
        post_form(
            client,
            "/auth/login",
            {"email": f"p{i}@example.com", "password": "wrong password!!"},
            headers={"X-Forwarded-For": "198.51.100.1"},
        )
    same = post_form(
        client,
        "/auth/login",
        {"email": "p@example.com", "password": "wrong password!!"},
        headers={"X-Forwarded-For": "198.51.100.1"},
    )
    other = post_form(
        client,
        "/auth/login",
        {"email": "p@example.com", "password": "wrong password!!"},
        headers={"X-Forwarded-For": "198.51.100.2"},
    )
    assert same.status_code == 429
    assert other.status_code == 400
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def test_remember_me_keeps_a_new_browser_signed_in_for_seven_days(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "remember@example.com")
    answer = sign_in(client, user, remember=True)
    cookie = next(
        c for c in answer.headers.getlist("Set-Cookie") if c.startswith("remember_token=")
    )
    assert "HttpOnly" in cookie
    expires = datetime.strptime(
        cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT"
    )
    days = (expires.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds() / 86400
    assert 6.9 < days <= 7.0
    browser = app.test_client()
    browser.set_cookie("remember_token", client.get_cookie("remember_token").value)  # type: ignore[union-attr]
    assert browser.get("/account/").status_code == 200


def test_a_deactivated_user_is_signed_out_at_the_next_request(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "gone@example.com")
    sign_in(client, user)
    assert client.get("/account/").status_code == 200
    with app.app_context():
        set_active(db.session(), user_id=user.id, active=False)
        db.session.commit()
    assert client.get("/account/").status_code == 302
    assert _login(client, user.email, user.password).status_code == 400


def test_next_only_leads_to_this_site(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "next@example.com")
    for target, expected in (
        ("/account/", "/account/"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
    ):
        answer = post_form(
            app.test_client(),
            "/auth/login",
            {"email": user.email, "password": user.password, "next": target},
        )
        assert answer.headers["Location"] == expected
