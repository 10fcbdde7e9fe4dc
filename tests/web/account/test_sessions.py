from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cryptolens.db.accounts import UserSession
from cryptolens.extensions import db
from tests.web.accounts_helpers import make_user, post_form, sign_in

NEW_PASSWORD = "another long passphrase 7"


def test_logout_everywhere_ends_other_clients_but_keeps_this_one(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "many@example.com")
    other = app.test_client()
    remembered = app.test_client()
    sign_in(client, user)
    sign_in(other, user)
    sign_in(remembered, user, remember=True)
    assert other.get("/account/").status_code == 200

    answer = post_form(client, "/account/sessions/revoke", form_path="/account/")
    assert answer.status_code == 200
    assert other.get("/account/").status_code == 302
    assert remembered.get("/account/").status_code == 302  # the remember cookie is revoked too
    assert client.get("/account/").status_code == 200


def test_a_password_change_ends_other_sessions(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "rotate@example.com")
    other = app.test_client()
    sign_in(client, user)
    sign_in(other, user)
    answer = post_form(
        client,
        "/account/password",
        {"current_password": user.password, "new_password": NEW_PASSWORD},
        form_path="/account/",
    )
    assert answer.status_code == 200
    assert other.get("/account/").status_code == 302
    assert client.get("/account/").status_code == 200
    assert sign_in(app.test_client(), user, password=NEW_PASSWORD).status_code == 302


def test_a_password_change_needs_the_current_password(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "keep@example.com")
    sign_in(client, user)
    answer = post_form(
        client,
        "/account/password",
        {"current_password": "not my password", "new_password": NEW_PASSWORD},
        form_path="/account/",
    )
    assert answer.status_code == 400
    assert "current password is incorrect" in answer.text


def _session_ids(page: str) -> list[str]:
    return re.findall(r"/account/sessions/([0-9a-f]{64})/revoke", page)


def test_the_account_page_lists_each_signed_in_device(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "devices@example.com")
    phone = app.test_client()
    sign_in(client, user, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    sign_in(phone, user, headers={"User-Agent": "PhoneBrowser/1.0"})
    page = client.get("/account/").text
    assert len(_session_ids(page)) == 2
    assert "PhoneBrowser/1.0" in page
    assert "203.0.113.7" in page
    assert page.count("· this device") == 1
    assert "last seen" in page


def test_signing_out_another_device_ends_only_that_session(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "phone@example.com")
    phone = app.test_client()
    sign_in(phone, user, headers={"User-Agent": "PhoneBrowser/1.0"})
    sign_in(client, user)
    with app.app_context():
        phone_session = db.session.scalars(
            select(UserSession.id).where(UserSession.user_agent == "PhoneBrowser/1.0")
        ).one()
    assert phone_session in _session_ids(client.get("/account/").text)
    answer = post_form(client, f"/account/sessions/{phone_session}/revoke", form_path="/account/")
    assert answer.status_code == 302
    assert phone.get("/account/").status_code == 302
    assert client.get("/account/").status_code == 200
    assert len(_session_ids(client.get("/account/").text)) == 1


def test_signing_out_this_device_from_the_list_signs_this_browser_out(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "self@example.com")
    sign_in(client, user, remember=True)
    (mine,) = _session_ids(client.get("/account/").text)
    answer = post_form(client, f"/account/sessions/{mine}/revoke", form_path="/account/")
    assert answer.headers["Location"] == "/auth/login"
    assert client.get("/account/").status_code == 302


def test_nobody_can_sign_out_someone_elses_session(app: Flask, client: FlaskClient) -> None:
    victim_user = make_user(app, "victim@example.com")
    victim = app.test_client()
    sign_in(victim, victim_user)
    (theirs,) = _session_ids(victim.get("/account/").text)
    sign_in(client, make_user(app, "mallory@example.com"))
    answer = post_form(client, f"/account/sessions/{theirs}/revoke", form_path="/account/")
    assert answer.status_code == 404
    assert victim.get("/account/").status_code == 200


def test_signing_out_everywhere_revokes_the_session_records(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "records@example.com")
    other = app.test_client()
    sign_in(other, user)
    sign_in(client, user)
    post_form(client, "/account/sessions/revoke", form_path="/account/")
    with app.app_context():
        rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
        live = [row for row in rows if row.revoked_at is None]
    assert len(rows) == 3  # two revoked, and the one this browser was given again
    assert len(live) == 1
    assert _session_ids(client.get("/account/").text) == [live[0].id]
