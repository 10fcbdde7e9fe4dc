"""Signing out ends the session everywhere: the remember cookie, copies of the cookies, and
the server-side record; the lifetime and idle timeout settings apply to the record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, update

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db.accounts import UserSession
from cryptolens.extensions import db
from tests.builders.db import clear_tables
from tests.web.accounts_helpers import make_user, post_form, sign_in

COOKIES = ("session", "remember_token")


def _copy_cookies(source: FlaskClient, target: FlaskClient) -> None:
    """What a thief with the browser's cookie jar would hold."""
    for name in COOKIES:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def test_signing_out_after_keep_me_signed_in_leaves_the_next_request_anonymous(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "remembered@example.com")
    sign_in(client, user, remember=True)
    assert client.get_cookie("remember_token") is not None
    assert post_form(client, "/auth/logout", form_path="/account/").status_code == 302
    assert client.get_cookie("remember_token") is None
    answer = client.get("/account/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize("remember", [False, True])
def test_a_copied_cookie_stops_working_after_sign_out(
    app: Flask, client: FlaskClient, remember: bool
) -> None:
    user = make_user(app, "copied@example.com")
    sign_in(client, user, remember=remember)
    thief = app.test_client()
    _copy_cookies(client, thief)
    assert thief.get("/account/").status_code == 200
    post_form(client, "/auth/logout", form_path="/account/")
    assert thief.get("/account/").status_code == 302


def test_a_copied_remember_cookie_alone_stops_working_after_sign_out(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "remember-only@example.com")
    sign_in(client, user, remember=True)
    thief = app.test_client()
    thief.set_cookie("remember_token", client.get_cookie("remember_token").value)  # type: ignore[union-attr]
    post_form(client, "/auth/logout", form_path="/account/")
    assert thief.get("/account/").status_code == 302


def _rows(app: Flask, user_id: int) -> list[UserSession]:
    with app.app_context():
        rows = list(db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)))
        db.session.expunge_all()
        return rows


def _move_clock(app: Flask, user_id: int, back: timedelta) -> None:
    """As if ``back`` had passed since the session was made and last used."""
    with app.app_context():
        for row in _rows(app, user_id):
            db.session.execute(
                update(UserSession)
                .where(UserSession.id == row.id)
                .values(
                    created_at=row.created_at - back,
                    last_seen_at=row.last_seen_at - back,
                    expires_at=row.expires_at - back,
                )
            )
        db.session.commit()


@pytest.fixture
def short_app(settings: Settings, migrated_engine: Engine) -> Iterator[Flask]:
    """Sessions of two days that end after 30 idle minutes."""
    application = create_app(
        settings.model_copy(update={"session_lifetime_days": 2, "session_idle_timeout_minutes": 30})
    )
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    clear_tables(migrated_engine)


def test_the_lifetime_setting_sets_the_record_and_the_remember_cookie(short_app: Flask) -> None:
    user = make_user(short_app, "lifetime@example.com")
    client = short_app.test_client()
    answer = sign_in(client, user, remember=True)
    (row,) = _rows(short_app, user.id)
    assert row.expires_at - row.created_at == timedelta(days=2)
    cookie = next(
        c for c in answer.headers.getlist("Set-Cookie") if c.startswith("remember_token=")
    )
    expires = datetime.strptime(
        cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT"
    ).replace(tzinfo=UTC)
    # The cookie's expiry is reckoned from its own "now", a moment after the record's, and
    # MariaDB keeps the record to the second: allow the two clocks a few seconds apart.
    assert timedelta(days=1, hours=23) < expires - row.created_at <= timedelta(days=2, seconds=5)


def test_a_remembered_session_ends_when_the_seven_day_lifetime_is_over(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user(app, "expired@example.com")
    sign_in(client, user, remember=True)
    _move_clock(app, user.id, timedelta(days=7) - timedelta(minutes=5))
    assert client.get("/account/").status_code == 200  # no idle timeout by default
    _move_clock(app, user.id, timedelta(minutes=6))
    assert client.get("/account/").status_code == 302


def test_an_idle_session_ends_after_the_idle_timeout(short_app: Flask) -> None:
    user = make_user(short_app, "idle@example.com")
    client = short_app.test_client()
    sign_in(client, user, remember=True)
    _move_clock(short_app, user.id, timedelta(minutes=29))
    assert client.get("/account/").status_code == 200  # this use moves last_seen_at to now
    _move_clock(short_app, user.id, timedelta(minutes=29))
    assert client.get("/account/").status_code == 200
    _move_clock(short_app, user.id, timedelta(minutes=31))
    assert client.get("/account/").status_code == 302
