"""Administration use cases: global settings and user management."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.db.models import Setting
from cryptolens.domain.errors import ValidationError
from cryptolens.services.accounts.subscriptions import plan_status

_KEY = re.compile(r"^[a-z][a-z0-9_.]{0,99}$")
MAX_VALUE_LENGTH = 10_000


@dataclass(frozen=True, slots=True)
class SettingView:
    key: str
    value: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class UserSummary:
    id: int
    email: str
    role: str
    active: bool
    verified: bool
    plan: str
    created_at: datetime


def list_settings(session: Session) -> list[SettingView]:
    rows = session.scalars(select(Setting).order_by(Setting.key)).all()
    return [SettingView(key=r.key, value=r.value, updated_at=r.updated_at) for r in rows]


def set_setting(session: Session, *, key: str, value: str, now: datetime) -> None:
    """Create or replace a global setting; keys are lower-case dotted names."""
    key = key.strip()
    if not _KEY.match(key):
        raise ValidationError("A setting key uses a-z, 0-9, _ and . and starts with a letter.")
    if len(value) > MAX_VALUE_LENGTH:
        raise ValidationError(f"A setting value may have at most {MAX_VALUE_LENGTH} characters.")
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now


def list_users(session: Session, *, now: datetime, limit: int = 500) -> list[UserSummary]:
    users = session.scalars(select(User).order_by(User.id).limit(limit)).all()
    return [
        UserSummary(
            id=u.id,
            email=u.email,
            role=u.role,
            active=u.active,
            verified=u.email_verified_at is not None,
            plan=plan_status(session, user_id=u.id, now=now).plan.value,
            created_at=u.created_at,
        )
        for u in users
    ]
