"""Server-side sessions: one row per signed-in browser, so a sign-out (or a password change)
ends a session everywhere its cookie was copied to, and users can see and end their sessions.

The cookie carries a random token; rows are keyed by its sha256, so neither the table nor the
account page (which names sessions by id) holds a usable credential.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from cryptolens.db.accounts import UserSession

#: ``last_seen_at`` is written at most this often: a request is a read, not a write.
TOUCH_EVERY = timedelta(minutes=1)
_MAX_USER_AGENT = 255
_MAX_IP = 45


@dataclass(frozen=True, slots=True)
class SessionRules:
    """How long a session may live in total, and unused (None: no idle limit)."""

    lifetime: timedelta
    idle_timeout: timedelta | None = None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session as the account page lists it."""

    id: str
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    expires_at: datetime


def session_id_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(
    session: Session,
    *,
    user_id: int,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    rules: SessionRules,
) -> str:
    """Record a new session; returns the token for the cookie (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=session_id_of(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            ip=(ip or None) and ip[:_MAX_IP],
            user_agent=(user_agent or None) and user_agent[:_MAX_USER_AGENT],
            expires_at=now + rules.lifetime,
        )
    )
    return token


def _is_live(row: UserSession, *, now: datetime, rules: SessionRules) -> bool:
    if row.revoked_at is not None or now >= row.expires_at:
        return False
    return rules.idle_timeout is None or now - row.last_seen_at < rules.idle_timeout


def check_session(
    session: Session, *, user_id: int, token: str, now: datetime, rules: SessionRules
) -> str | None:
    """The session id if ``token`` is a live session of ``user_id``, else None.

    Refreshes ``last_seen_at`` when it is older than TOUCH_EVERY (the caller commits).
    """
    row = session.get(UserSession, session_id_of(token))
    if row is None or row.user_id != user_id or not _is_live(row, now=now, rules=rules):
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row.id


def list_sessions(
    session: Session, *, user_id: int, now: datetime, rules: SessionRules
) -> list[SessionInfo]:
    """The user's live sessions, most recently used first."""
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id)
    )
    return [
        SessionInfo(
            id=row.id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            ip=row.ip,
            user_agent=row.user_agent,
            expires_at=row.expires_at,
        )
        for row in rows
        if _is_live(row, now=now, rules=rules)
    ]


def revoke_session(session: Session, *, user_id: int, session_id: str, now: datetime) -> bool:
    """End one of the user's own sessions; False if it is not theirs or already ended."""
    result = session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all_sessions(session: Session, *, user_id: int, now: datetime) -> int:
    """End every session of the user (sign out everywhere, password change or reset)."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge_sessions(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete sessions that ended (expired or revoked) more than ``keep`` ago."""
    cutoff = now - keep
    result = session.execute(
        delete(UserSession).where(
            or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
