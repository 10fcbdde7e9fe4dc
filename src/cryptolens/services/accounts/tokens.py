"""Single-use emailed tokens: only the sha256 of a random token is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cryptolens.db.accounts import UserToken
from cryptolens.db.transactions import claim_once
from cryptolens.domain.errors import AuthenticationError


class TokenPurpose(StrEnum):
    VERIFY = "verify"
    RESET = "reset"
    CHANGE_EMAIL = "change_email"


LIFETIMES: dict[TokenPurpose, timedelta] = {
    TokenPurpose.VERIFY: timedelta(days=2),
    TokenPurpose.RESET: timedelta(hours=1),
    TokenPurpose.CHANGE_EMAIL: timedelta(days=1),
}
INVALID_LINK = "This link is invalid, already used or expired; request a new one."


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session,
    *,
    user_id: int,
    purpose: TokenPurpose,
    now: datetime,
    new_email: str | None = None,
) -> str:
    """Store a new token's digest and return the token; older unused ones of the purpose die."""
    session.execute(
        update(UserToken)
        .where(
            UserToken.user_id == user_id,
            UserToken.purpose == purpose.value,
            UserToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        UserToken(
            user_id=user_id,
            purpose=purpose.value,
            token_hash=digest(token),
            new_email=new_email,
            expires_at=now + LIFETIMES[purpose],
            created_at=now,
        )
    )
    session.flush()
    return token


def consume_token(
    session: Session, *, token: str, purpose: TokenPurpose, now: datetime
) -> UserToken:
    """Mark the token used and return its row; AuthenticationError if unknown/used/expired."""
    row = session.scalars(
        select(UserToken).where(
            UserToken.token_hash == digest(token), UserToken.purpose == purpose.value
        )
    ).one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise AuthenticationError(INVALID_LINK)
    # Conditional update: of two concurrent uses only one sees a row change.
    claimed = claim_once(
        session,
        update(UserToken)
        .where(UserToken.id == row.id, UserToken.used_at.is_(None))
        .values(used_at=now),
    )
    if not claimed:
        raise AuthenticationError(INVALID_LINK)
    return row


def peek_token(session: Session, *, token: str, purpose: TokenPurpose, now: datetime) -> bool:
    """Whether the token could still be used (for showing a form before consuming it)."""
    row = session.scalars(
        select(UserToken).where(
            UserToken.token_hash == digest(token), UserToken.purpose == purpose.value
        )
    ).one_or_none()
    return row is not None and row.used_at is None and row.expires_at > now
