from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from cryptolens.db.accounts import UserToken
from cryptolens.extensions import db
from tests.web.accounts_helpers import Mailbox, link_in, make_user, post_form, sign_in

NEW_PASSWORD = "a brand new passphrase 42"


def test_reset_link_sets_a_new_password_once_and_ends_other_sessions(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "forgetful@example.com")
    elsewhere = app.test_client()
    sign_in(elsewhere, user)
    assert elsewhere.get("/").status_code == 200

    asked = post_form(client, "/auth/forgot", {"email": user.email})
    assert asked.status_code == 200
    link = link_in(mailbox.wait_for(user.email))
    done = post_form(client, link, {"password": NEW_PASSWORD}, form_path=link)
    assert done.status_code == 200
    assert "every session was signed out" in done.text

    assert elsewhere.get("/").status_code == 302  # the other session is over
    again = post_form(client, link, {"password": "yet another passphrase"}, form_path=link)
    assert again.status_code == 400
    assert sign_in(client, user).status_code == 400
    assert sign_in(client, user, password=NEW_PASSWORD).status_code == 302


def test_an_expired_reset_link_is_refused(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "late@example.com")
    post_form(client, "/auth/forgot", {"email": user.email})
    link = link_in(mailbox.wait_for(user.email))
    with app.app_context():
        db.session.execute(
            update(UserToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
    answer = post_form(client, link, {"password": NEW_PASSWORD}, form_path=link)
    assert answer.status_code == 400
    assert "expired" in answer.text


def test_reset_requests_answer_the_same_for_unknown_emails(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    make_user(app, "exists@example.com")
    known = post_form(client, "/auth/forgot", {"email": "exists@example.com"})
    unknown = post_form(client, "/auth/forgot", {"email": "missing@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    mailbox.wait_for("exists@example.com")
    assert all("missing@example.com" not in str(m["To"]) for m in mailbox.parsed())


def test_the_stored_token_is_a_digest_not_the_emailed_token(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "digest@example.com")
    post_form(client, "/auth/forgot", {"email": user.email})
    token = link_in(mailbox.wait_for(user.email)).rsplit("/", 1)[1]
    with app.app_context():
        stored = {row.token_hash for row in db.session.query(UserToken).all()}
    assert token not in stored
    assert all(len(h) == 64 for h in stored)
