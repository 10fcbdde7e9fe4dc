from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import UserSession
from cryptolens.extensions import db
from cryptolens.jobs import tasks
from cryptolens.runtime import app_settings
from cryptolens.services.accounts.user_sessions import (
    SessionRules,
    check_session,
    list_sessions,
    open_session,
    purge_sessions,
    revoke_all_sessions,
    revoke_session,
    session_id_of,
)
from tests.web.accounts_helpers import make_user

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WEEK = SessionRules(lifetime=timedelta(days=7))
IDLE_HOUR = SessionRules(lifetime=timedelta(days=7), idle_timeout=timedelta(hours=1))


def _open(session: Session, user_id: int, *, at: datetime = NOW, rules: SessionRules = WEEK) -> str:
    return open_session(
        session, user_id=user_id, ip="127.0.0.1", user_agent="Firefox", now=at, rules=rules
    )


def test_a_session_ends_when_its_lifetime_is_over(app: Flask) -> None:
    user = make_user(app, "life@example.com")
    with app.app_context():
        session = db.session()
        token = _open(session, user.id)
        just_before = NOW + timedelta(days=7) - timedelta(seconds=1)
        assert check_session(session, user_id=user.id, token=token, now=just_before, rules=WEEK)
        at_expiry = NOW + timedelta(days=7)
        assert (
            check_session(session, user_id=user.id, token=token, now=at_expiry, rules=WEEK) is None
        )


def test_an_idle_session_ends_after_the_idle_timeout_but_use_keeps_it_alive(app: Flask) -> None:
    user = make_user(app, "idle@example.com")
    with app.app_context():
        session = db.session()
        token = _open(session, user.id, rules=IDLE_HOUR)
        for minutes in (50, 100, 150):  # each use within the hour moves last_seen_at on
            at = NOW + timedelta(minutes=minutes)
            assert check_session(session, user_id=user.id, token=token, now=at, rules=IDLE_HOUR)
        idle = NOW + timedelta(minutes=150 + 60)
        assert (
            check_session(session, user_id=user.id, token=token, now=idle, rules=IDLE_HOUR) is None
        )


def test_last_seen_is_written_at_most_once_a_minute(app: Flask) -> None:
    user = make_user(app, "touch@example.com")
    with app.app_context():
        session = db.session()
        token = _open(session, user.id)
        session.commit()
        check_session(
            session, user_id=user.id, token=token, now=NOW + timedelta(seconds=59), rules=WEEK
        )
        assert not session.dirty
        later = NOW + timedelta(seconds=60)
        check_session(session, user_id=user.id, token=token, now=later, rules=WEEK)
        assert session.get(UserSession, session_id_of(token)).last_seen_at == later  # type: ignore[union-attr]


def test_the_table_keeps_only_the_hash_of_the_cookie_token(app: Flask) -> None:
    user = make_user(app, "hash@example.com")
    with app.app_context():
        session = db.session()
        token = _open(session, user.id)
        session.flush()
        ids = session.scalars(select(UserSession.id)).all()
        assert ids == [session_id_of(token)]
        assert token not in ids


def test_a_token_is_not_a_session_of_another_user(app: Flask) -> None:
    owner = make_user(app, "owner@example.com")
    other = make_user(app, "other@example.com")
    with app.app_context():
        session = db.session()
        token = _open(session, owner.id)
        assert check_session(session, user_id=other.id, token=token, now=NOW, rules=WEEK) is None
        assert not revoke_session(
            session, user_id=other.id, session_id=session_id_of(token), now=NOW
        )
        assert check_session(session, user_id=owner.id, token=token, now=NOW, rules=WEEK)


def test_revoking_ends_one_session_or_all_of_them(app: Flask) -> None:
    user = make_user(app, "revoke@example.com")
    with app.app_context():
        session = db.session()
        first, second, third = (_open(session, user.id) for _ in range(3))
        assert revoke_session(session, user_id=user.id, session_id=session_id_of(first), now=NOW)
        assert check_session(session, user_id=user.id, token=first, now=NOW, rules=WEEK) is None
        assert {s.id for s in list_sessions(session, user_id=user.id, now=NOW, rules=WEEK)} == {
            session_id_of(second),
            session_id_of(third),
        }
        assert revoke_all_sessions(session, user_id=user.id, now=NOW) == 2
        assert list_sessions(session, user_id=user.id, now=NOW, rules=WEEK) == []


def test_purge_deletes_sessions_ended_long_enough_ago(app: Flask) -> None:
    user = make_user(app, "purge@example.com")
    with app.app_context():
        session = db.session()
        _open(session, user.id, at=NOW - timedelta(days=30))  # expired 23 days ago
        revoked = _open(session, user.id, at=NOW - timedelta(days=3))
        live = _open(session, user.id)
        revoke_session(
            session, user_id=user.id, session_id=session_id_of(revoked), now=NOW - timedelta(days=2)
        )
        assert purge_sessions(session, now=NOW, keep=timedelta(days=1)) == 2
        assert session.scalars(select(UserSession.id)).all() == [session_id_of(live)]


def test_the_daily_cleanup_job_purges_ended_sessions(app: Flask) -> None:
    user = make_user(app, "cleanup@example.com")
    with app.app_context():
        session = db.session()
        _open(session, user.id, at=datetime.now(UTC) - timedelta(days=30))
        session.commit()
        counts = tasks.cleanup(db.engine, app_settings(app))
        assert counts["sessions_deleted"] == 1
        assert session.scalar(select(func.count()).select_from(UserSession)) == 0
