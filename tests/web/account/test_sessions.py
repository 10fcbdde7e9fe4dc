from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

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
    assert other.get("/").status_code == 200

    answer = post_form(client, "/account/sessions/revoke", form_path="/account/")
    assert answer.status_code == 200
    assert other.get("/").status_code == 302
    assert remembered.get("/").status_code == 302  # the remember cookie is revoked too
    assert client.get("/").status_code == 200


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
    assert other.get("/").status_code == 302
    assert client.get("/").status_code == 200
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
