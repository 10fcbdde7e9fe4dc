from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, update

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db.accounts import UserToken
from cryptolens.extensions import db
from cryptolens.services.ops.background import wait_for_background
from tests.web.accounts_helpers import (
    Mailbox,
    csrf_token,
    link_in,
    make_user,
    post_form,
    sign_in,
)

NEW_PASSWORD = "a brand new passphrase 42"


def test_reset_link_sets_a_new_password_once_and_ends_other_sessions(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "forgetful@example.com")
    elsewhere = app.test_client()
    sign_in(elsewhere, user)
    assert elsewhere.get("/account/").status_code == 200

    asked = post_form(client, "/auth/forgot", {"email": user.email})
    assert asked.status_code == 200
    link = link_in(mailbox.wait_for(user.email))
    done = post_form(client, link, {"password": NEW_PASSWORD}, form_path=link)
    assert done.status_code == 200
    assert "every session was signed out" in done.text

    assert elsewhere.get("/account/").status_code == 302  # the other session is over
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


def test_a_forged_host_header_still_gets_a_link_to_the_public_url(
    app: Flask, settings: Settings, mailbox: Mailbox
) -> None:
    """Even where the host check lets the forged name through (TRUSTED_HOSTS unset in
    production lets every host in), the emailed link comes from PUBLIC_URL."""
    permissive = create_app(settings.model_copy(update={"trusted_hosts": ("evil.example",)}))
    try:
        user = make_user(permissive, "poisoned@example.com")
        client = permissive.test_client()
        evil = {"base_url": "http://evil.example"}  # every request says Host: evil.example
        form = client.get("/auth/forgot", **evil)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        answer = client.post(
            "/auth/forgot",
            data={"csrf_token": token.group(1), "email": user.email},
            buffered=True,
            **evil,
        )
        assert answer.status_code == 200
        body = mailbox.wait_for(user.email).get_body(preferencelist=("plain",))
    finally:
        wait_for_background()
        with permissive.app_context():
            db.session.remove()
            db.engine.dispose()
    assert body is not None
    links = [word for word in body.get_content().split() if "://" in word]
    assert links
    assert all(link.startswith("http://127.0.0.1:5000/auth/reset/") for link in links)
    assert "evil.example" not in body.get_content()


def _statements_on_this_thread(app: Flask, client: FlaskClient, email: str) -> list[str]:
    """SQL the request itself runs (background delivery runs on other threads)."""
    token = csrf_token(client, "/auth/forgot")
    seen: list[str] = []
    me = threading.get_ident()

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if threading.get_ident() == me:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        answer = client.post(
            "/auth/forgot", data={"csrf_token": token, "email": email}, buffered=True
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert answer.status_code == 200
    return seen


def test_the_forgot_request_does_the_same_database_work_for_any_address(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "timing@example.com")
    known = _statements_on_this_thread(app, client, user.email)
    unknown = _statements_on_this_thread(app, client, "nobody@example.com")
    assert known == unknown
    assert not any("users" in statement for statement in known)  # no look-up in the request
    mailbox.wait_for(user.email)  # the look-up, token and email happened off the request


def test_a_password_reset_tells_the_user_their_password_changed(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    user = make_user(app, "notified@example.com")
    post_form(client, "/auth/forgot", {"email": user.email})
    link = link_in(mailbox.wait_for(user.email))
    post_form(client, link, {"password": NEW_PASSWORD}, form_path=link)
    notice = mailbox.wait_for(user.email, count=2)
    assert notice["Subject"] == "Your CryptoLens password was changed"
