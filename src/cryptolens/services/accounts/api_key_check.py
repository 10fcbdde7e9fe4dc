"""Verifying an API key on a request: one indexed query (the key by its lookup id, joined
with its user and the user's started subscriptions), then checks in memory.

The answer is either the resolved key (who, which plan, which scopes and limits) or a
refusal whose message names the reason, for the web edge to answer 401 or 403.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import Subscription, User
from cryptolens.db.api_keys import ApiKey
from cryptolens.domain.api_scopes import RateLimits, address_allowed, parse_key
from cryptolens.domain.plans import Capability, Plan
from cryptolens.services.accounts import policy
from cryptolens.services.accounts.api_keys import hash_secret
from cryptolens.services.accounts.subscriptions import plan_in_force

UNKNOWN_KEY = "The API key is not valid."
KEY_REVOKED = "This API key has been revoked."
KEY_REPLACED = "This API key was rotated and its grace period is over; use the new key."
ACCOUNT_INACTIVE = "The account that owns this API key is deactivated."
PLAN_LAPSED = "The Premium plan has lapsed — renew to use the API."


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """A key that may be used now, and what it may do."""

    key_id: int
    user_id: int
    plan: Plan
    role: str
    verified: bool
    scopes: frozenset[str]
    limits: RateLimits

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class KeyRefused:
    """A key that may not be used: 401 (not a key of ours) or 403 (reason named)."""

    message: str
    status: int = 403


KeyCheck = ResolvedKey | KeyRefused


@dataclass(frozen=True, slots=True)
class _Subject:
    plan: Plan
    is_admin: bool


_COLUMNS = (
    ApiKey.id,
    ApiKey.user_id,
    ApiKey.secret_hash,
    ApiKey.scopes,
    ApiKey.allow,
    ApiKey.deny,
    ApiKey.limit_minute,
    ApiKey.limit_hour,
    ApiKey.limit_day,
    ApiKey.expires_at,
    ApiKey.revoked_at,
    ApiKey.replaced_by_id,
    ApiKey.grace_until,
    User.role,
    User.active,
    User.email_verified_at,
    Subscription.plan,
    Subscription.expires_at.label("plan_expires_at"),
)


#: Built once: the statement is the same on every request, only its parameters change.
_KEY_QUERY = (
    select(*_COLUMNS)
    .join(User, User.id == ApiKey.user_id)
    .outerjoin(
        Subscription,
        and_(
            Subscription.user_id == ApiKey.user_id,
            Subscription.started_at <= bindparam("now", type_=Subscription.started_at.type),
        ),
    )
    .where(ApiKey.lookup_id == bindparam("lookup"))
)


def _capped(own: RateLimits, ceiling: RateLimits) -> RateLimits:
    values = [
        top if mine is None else (mine if top is None else min(mine, top))
        for mine, top in zip(own.as_tuple(), ceiling.as_tuple(), strict=True)
    ]
    return RateLimits(*values)


def _refusal(row: Any, *, ip: str | None, now: datetime) -> str | None:
    """Why the key row may not be used now (None: it may)."""
    if row.revoked_at is not None:
        return KEY_REVOKED
    expires_at: datetime | None = row.expires_at
    if expires_at is not None and expires_at <= now:
        return f"This API key expired at {expires_at:%Y-%m-%d %H:%M} UTC."
    grace: datetime | None = row.grace_until
    if row.replaced_by_id is not None and (grace is None or grace <= now):
        return KEY_REPLACED
    if not row.active:
        return ACCOUNT_INACTIVE
    if not address_allowed(ip, allow=row.allow or (), deny=row.deny or ()):
        return f"This API key may not be used from the address {ip or 'unknown'}."
    return None


def verify_key(
    session: Session, plaintext: str, *, ip: str | None, now: datetime, pepper: bytes
) -> KeyCheck:
    """Check ``plaintext`` as sent by a caller at address ``ip``: one query."""
    parsed = parse_key(plaintext)
    if parsed is None:
        return KeyRefused(UNKNOWN_KEY, status=401)
    lookup, secret = parsed
    rows = session.execute(_KEY_QUERY, {"lookup": lookup, "now": now}).all()
    if not rows or not hmac.compare_digest(rows[0].secret_hash, hash_secret(secret, pepper)):
        return KeyRefused(UNKNOWN_KEY, status=401)
    row = rows[0]
    reason = _refusal(row, ip=ip, now=now)
    if reason is not None:
        return KeyRefused(reason)
    plan = plan_in_force(((r.plan, r.plan_expires_at) for r in rows if r.plan), now)
    subject = _Subject(plan=plan, is_admin=row.role == "admin")
    if not policy.can(subject, Capability.API):
        return KeyRefused(PLAN_LAPSED)
    scopes = frozenset(row.scopes) & policy.api_scopes(subject)
    own = RateLimits(row.limit_minute, row.limit_hour, row.limit_day)
    return ResolvedKey(
        key_id=row.id,
        user_id=row.user_id,
        plan=plan,
        role=row.role,
        verified=row.email_verified_at is not None,
        scopes=frozenset(str(s) for s in scopes),
        limits=_capped(own, policy.api_rate_limits(subject)),
    )
