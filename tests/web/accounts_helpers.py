"""Helpers for account tests: users in every role and plan, forms with their CSRF token,
signing in, and reading mail from the local SMTP server."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from cryptolens.db.accounts import User
from cryptolens.extensions import db
from cryptolens.services.accounts.accounts import create_admin, register, verify_email
from cryptolens.services.accounts.passwords import Passwords
from cryptolens.services.accounts.subscriptions import grant_subscription

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"https?://\S+")
TEST_PASSWORDS = Passwords(time_cost=1, memory_kib=1024)


def csrf_token(client: FlaskClient, form_path: str = "/auth/login") -> str:
    """The CSRF token of the form at ``form_path``, as a browser would read it."""
    page = client.get(form_path)
    match = _CSRF.search(page.text)
    assert match, f"no csrf_token in {form_path} ({page.status_code})"
    return match.group(1)


def without_csrf_token(page: str) -> str:
    """``page`` with its CSRF token blanked: the token is signed with the current second, so
    two otherwise identical answers differ when they straddle a second boundary."""
    return _CSRF.sub('name="csrf_token" value=""', page)


def post_form(
    client: FlaskClient,
    path: str,
    data: dict[str, str] | None = None,
    *,
    form_path: str = "/auth/login",
    **kwargs: object,
) -> TestResponse:
    """POST ``data`` with the CSRF token read from the page at ``form_path``. The response
    is closed, as a real server closes it (work handed off on close then starts)."""
    fields = {"csrf_token": csrf_token(client, form_path), **(data or {})}
    kwargs.setdefault("buffered", True)
    return client.post(path, data=fields, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    password: str = PASSWORD


def make_user(
    app: Flask,
    email: str,
    *,
    verified: bool = True,
    plan: str | None = None,
    admin: bool = False,
    expires_at: datetime | None = None,
) -> Person:
    """A user straight through the services (no email round trip)."""
    now = datetime.now(UTC)
    with app.app_context():
        session = db.session()
        if admin:
            user_id = create_admin(
                session, email=email, password=PASSWORD, passwords=TEST_PASSWORDS, now=now
            )
        else:
            result = register(
                session, email=email, password=PASSWORD, passwords=TEST_PASSWORDS, now=now
            )
            assert result.new_user_id is not None
            assert result.verify_token is not None
            user_id = result.new_user_id
            if verified:
                verify_email(session, token=result.verify_token, now=now)
        if plan is not None:
            grant_subscription(
                session,
                user_id=user_id,
                plan=plan,
                started_at=min(now, expires_at or now) - timedelta(days=30),
                expires_at=expires_at or now + timedelta(days=30),
            )
        session.commit()
    return Person(id=user_id, email=email)


def user_row(app: Flask, user_id: int) -> User:
    with app.app_context():
        row = db.session.scalars(select(User).where(User.id == user_id)).one()
        db.session.expunge(row)
        return row


def sign_in(
    client: FlaskClient,
    user: Person,
    *,
    remember: bool = False,
    password: str | None = None,
    **kwargs: object,
) -> TestResponse:
    """Sign in through the form; ``kwargs`` go to the request (headers, environ_base)."""
    data = {"email": user.email, "password": password or user.password}
    if remember:
        data["remember"] = "on"
    return post_form(client, "/auth/login", data, **kwargs)


@dataclass
class Mailbox:
    messages: list[bytes]

    def wait_for(self, recipient: str, *, count: int = 1, timeout: float = 10.0) -> EmailMessage:
        """The ``count``-th message to ``recipient``, waiting for background delivery."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.parsed() if recipient in str(m["To"])]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.02)
        raise AssertionError(f"no message #{count} for {recipient}")

    def parsed(self) -> list[EmailMessage]:
        return [
            message_from_bytes(raw, policy=policy.default)  # type: ignore[misc]
            for raw in list(self.messages)
        ]


def link_in(message: EmailMessage) -> str:
    """The link in the text part, as a path the test client can open."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = _LINK.search(body.get_content())
    assert match, "no link in the message"
    return urlsplit(match.group(0)).path


def signed_in_client(
    app: Flask, email: str, *, plan: str | None = None, admin: bool = False
) -> FlaskClient:
    """A test client signed in (through the login form) as a new verified user."""
    client = app.test_client()
    user = make_user(app, email, plan=plan, admin=admin)
    assert sign_in(client, user).status_code == 302
    return client
