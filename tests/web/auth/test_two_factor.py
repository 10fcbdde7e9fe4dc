from __future__ import annotations

import re
import time

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from cryptolens.extensions import db
from tests.web.accounts_helpers import Mailbox, Person, make_user, post_form, sign_in, user_row

_SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')
_CODES = re.compile(r"<li><code>([a-z0-9]{10})</code></li>")


def _enable(client: FlaskClient) -> tuple[pyotp.TOTP, list[str]]:
    page = post_form(client, "/account/two-factor/setup", form_path="/account/two-factor")
    assert 'src="data:image/svg+xml' in page.text  # QR rendered server-side
    secret = _SECRET.search(page.text)
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    first = totp.now()
    done = post_form(
        client,
        "/account/two-factor/confirm",
        {"code": first},
        form_path="/account/two-factor",
    )
    assert done.status_code == 200
    codes = _CODES.findall(done.text)
    assert len(codes) == 10  # backup codes, shown once
    return totp, [first, *codes]


def _second_step(client: FlaskClient, code: str) -> int:
    return post_form(
        client, "/auth/two-factor", {"code": code}, form_path="/auth/two-factor"
    ).status_code


def _fresh_login(app: Flask, user: Person) -> FlaskClient:
    browser = app.test_client()
    answer = sign_in(browser, user)
    assert answer.headers["Location"] == "/auth/two-factor"
    return browser


def test_two_factor_needs_a_confirmed_code_and_stores_the_secret_encrypted(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "otp@example.com")
    sign_in(client, user)
    post_form(client, "/account/two-factor/setup", form_path="/account/two-factor")
    wrong = post_form(
        client, "/account/two-factor/confirm", {"code": "000000"}, form_path="/account/two-factor"
    )
    assert wrong.status_code == 400
    assert user_row(app, user.id).totp_enabled is False
    totp, _ = _enable(client)
    row = user_row(app, user.id)
    assert row.totp_enabled is True
    assert row.totp_secret is not None
    assert totp.secret not in row.totp_secret


def test_a_totp_code_cannot_be_replayed_and_backup_codes_work_once(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "replay@example.com")
    sign_in(client, user)
    totp, (first, *backups) = _enable(client)

    browser = _fresh_login(app, user)
    assert browser.get("/account/").status_code == 302  # password alone is not enough
    assert _second_step(browser, first) == 400  # the set-up code's step is spent
    later = totp.at(time.time() + 30)
    assert _second_step(browser, later) == 302
    assert browser.get("/account/").status_code == 200

    replay = _fresh_login(app, user)
    assert _second_step(replay, later) == 400

    with_backup = _fresh_login(app, user)
    assert _second_step(with_backup, backups[0]) == 302
    spent = _fresh_login(app, user)
    assert _second_step(spent, backups[0]) == 400


def test_the_second_step_is_throttled(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "slow@example.com")
    sign_in(client, user)
    totp, _ = _enable(client)
    browser = _fresh_login(app, user)
    for _ in range(5):
        assert _second_step(browser, "123456") == 400
    assert _second_step(browser, totp.at(time.time() + 30)) == 429


def test_disabling_needs_the_password_and_a_code(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "off@example.com")
    sign_in(client, user)
    totp, _ = _enable(client)
    next_code = totp.at(time.time() + 30)
    no_password = post_form(
        client,
        "/account/two-factor/disable",
        {"password": "wrong password!!", "code": next_code},
        form_path="/account/two-factor",
    )
    assert no_password.status_code == 400
    off = post_form(
        client,
        "/account/two-factor/disable",
        {"password": user.password, "code": next_code},
        form_path="/account/two-factor",
    )
    assert off.status_code == 200
    assert user_row(app, user.id).totp_enabled is False
    with app.app_context():
        db.session.remove()


def test_turning_two_factor_on_and_off_is_emailed_to_the_user(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "told@example.com")
    sign_in(client, user)
    totp, _ = _enable(client)
    assert mailbox.wait_for(user.email)["Subject"] == "Two-factor authentication is on"
    post_form(
        client,
        "/account/two-factor/disable",
        {"password": user.password, "code": totp.at(time.time() + 30)},
        form_path="/account/two-factor",
    )
    off = mailbox.wait_for(user.email, count=2)
    assert off["Subject"] == "Two-factor authentication is off"
    body = off.get_body(preferencelist=("plain",))
    assert body is not None
    assert "http://127.0.0.1:5000/auth/forgot" in body.get_content()
