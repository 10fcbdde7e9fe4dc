"""API keys: create (the plaintext is returned once), list with recent usage, revoke, rotate.

A key reads ``cl_<lookup id>_<secret>``: the prefix lets secret scanners recognise a leaked
key, the lookup id finds its row, and only an HMAC of the secret (keyed with a pepper derived
from SECRET_KEY) is stored. The secret is 256 random bits, so a fast hash is the right one.
Who may hold keys and which scopes is decided in ``policy``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.db.api_keys import ApiKey, ApiKeyUsage
from cryptolens.domain.api_scopes import (
    KEY_PREFIX,
    LOOKUP_ALPHABET,
    LOOKUP_LENGTH,
    MAX_NAME_LENGTH,
    RateLimits,
    parse_networks,
    parse_scopes,
)
from cryptolens.domain.errors import ConflictError, NotFoundError, ValidationError
from cryptolens.domain.plans import Plan
from cryptolens.services.accounts import policy
from cryptolens.services.accounts.subscriptions import plan_status

MAX_GRACE = timedelta(days=30)
USAGE_DAYS = 7
NO_OWN_LIMITS = RateLimits()


class Owner(Protocol):
    """The user a key is made for: an id, a plan (expiry-checked) and a role."""

    @property
    def id(self) -> int: ...

    @property
    def plan(self) -> Plan: ...

    @property
    def is_admin(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class KeyOptions:
    """What a new key may do: scopes, IP rules, expiry and its own (lower) limits."""

    name: str
    scopes: Sequence[str]
    expires_at: datetime | None = None
    allow: Sequence[str] = ()
    deny: Sequence[str] = ()
    limits: RateLimits = NO_OWN_LIMITS


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A key as pages and the CLI show it: never its secret."""

    id: int
    user_id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    allow: tuple[str, ...]
    deny: tuple[str, ...]
    limits: RateLimits
    expires_at: datetime | None
    revoked_at: datetime | None
    replaced_by_id: int | None
    grace_until: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    created_at: datetime
    usage: tuple[tuple[date, int], ...] = ()  # requests per day, oldest first

    def state(self, now: datetime) -> str:
        """active, revoked, expired, rotated (still in its grace period) or replaced."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        if self.replaced_by_id is not None:
            grace = self.grace_until
            return "rotated" if grace is not None and now < grace else "replaced"
        return "active"


def key_pepper(secret_key: str) -> bytes:
    """The HMAC key for key secrets, derived from SECRET_KEY (changing it voids every key)."""
    return hmac.new(secret_key.encode(), b"cryptolens api keys v1", hashlib.sha256).digest()


def hash_secret(secret: str, pepper: bytes) -> str:
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def _new_plaintext() -> tuple[str, str, str]:
    """(lookup id, secret, the whole key)."""
    lookup = "".join(secrets.choice(LOOKUP_ALPHABET) for _ in range(LOOKUP_LENGTH))
    secret = secrets.token_urlsafe(32)
    return lookup, secret, f"{KEY_PREFIX}{lookup}_{secret}"


def _info(row: ApiKey, usage: tuple[tuple[date, int], ...] = ()) -> KeyInfo:
    return KeyInfo(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prefix=f"{KEY_PREFIX}{row.lookup_id}",
        scopes=tuple(sorted(row.scopes)),
        allow=tuple(row.allow or ()),
        deny=tuple(row.deny or ()),
        limits=RateLimits(row.limit_minute, row.limit_hour, row.limit_day),
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        replaced_by_id=row.replaced_by_id,
        grace_until=row.grace_until,
        last_used_at=row.last_used_at,
        last_used_ip=row.last_used_ip,
        created_at=row.created_at,
        usage=usage,
    )


def _clean_name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        return "API key"
    if len(text) > MAX_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValidationError(f"name: at most {MAX_NAME_LENGTH} printable characters.")
    return text


def _insert(
    session: Session, *, owner: Owner, options: KeyOptions, pepper: bytes, now: datetime
) -> tuple[ApiKey, str]:
    policy.require_api(owner)
    scopes = policy.check_api_scopes(owner, parse_scopes(options.scopes))
    if options.expires_at is not None and options.expires_at <= now:
        raise ValidationError("expires: the expiry must be in the future.")
    options.limits.within(policy.api_rate_limits(owner))  # validates: at most the plan's
    own = options.limits
    lookup, secret, plaintext = _new_plaintext()
    row = ApiKey(
        user_id=owner.id,
        name=_clean_name(options.name),
        lookup_id=lookup,
        secret_hash=hash_secret(secret, pepper),
        scopes=sorted(scopes),
        allow=list(parse_networks(options.allow, field="allow")) or None,
        deny=list(parse_networks(options.deny, field="deny")) or None,
        # Only limits the user lowered are stored; the rest follow the plan.
        limit_minute=own.minute,
        limit_hour=own.hour,
        limit_day=own.day,
        expires_at=options.expires_at,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, plaintext


def create_key(
    session: Session, *, owner: Owner, options: KeyOptions, pepper: bytes, now: datetime
) -> tuple[KeyInfo, str]:
    """A new key for ``owner`` and its plaintext (shown once, never stored).

    Raises TierRequiredError without the API, ForbiddenError for an admin scope of a
    non-admin, ValidationError naming a bad field."""
    row, plaintext = _insert(session, owner=owner, options=options, pepper=pepper, now=now)
    return _info(row), plaintext


def _usage(
    session: Session, key_ids: Iterable[int], *, today: date
) -> dict[int, tuple[tuple[date, int], ...]]:
    ids = list(key_ids)
    if not ids:
        return {}
    since = today - timedelta(days=USAGE_DAYS - 1)
    rows = session.execute(
        select(ApiKeyUsage.key_id, ApiKeyUsage.day, ApiKeyUsage.requests)
        .where(ApiKeyUsage.key_id.in_(ids), ApiKeyUsage.day >= since)
        .order_by(ApiKeyUsage.day)
    ).all()
    found: dict[int, list[tuple[date, int]]] = {}
    for key_id, day, requests in rows:
        found.setdefault(key_id, []).append((day, requests))
    return {key_id: tuple(days) for key_id, days in found.items()}


def list_keys(session: Session, *, user_id: int | None, now: datetime) -> list[KeyInfo]:
    """Keys of ``user_id`` (None: everyone's), newest first, with their last days of usage."""
    query = select(ApiKey).order_by(ApiKey.id.desc())
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    rows = session.scalars(query).all()
    usage = _usage(session, (row.id for row in rows), today=now.date())
    return [_info(row, usage.get(row.id, ())) for row in rows]


def key_owner_email(session: Session, *, user_ids: Iterable[int]) -> dict[int, str]:
    """Email of each user id (for the CLI's list of everyone's keys)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.email).where(User.id.in_(ids))).all()
    return {int(user_id): str(email) for user_id, email in rows}


def _owned(session: Session, *, key_id: int, user_id: int | None) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise NotFoundError(f"No API key with id {key_id}.")
    return row


def revoke_key(session: Session, *, key_id: int, user_id: int | None, now: datetime) -> KeyInfo:
    """Revoke a key of ``user_id`` (None: anyone's, for admins and the CLI) at once; revoking
    twice is harmless. NotFoundError for a key that is not theirs."""
    row = _owned(session, key_id=key_id, user_id=user_id)
    if row.revoked_at is None:
        row.revoked_at = now
    return _info(row)


@dataclass(frozen=True, slots=True)
class _KeyOwner:
    id: int
    plan: Plan
    is_admin: bool


def _owner_of(session: Session, row: ApiKey, now: datetime) -> _KeyOwner:
    user = session.get(User, row.user_id)
    if user is None:  # pragma: no cover - the foreign key cascades
        raise NotFoundError("No such user.")
    status = plan_status(session, user_id=user.id, now=now)
    return _KeyOwner(id=user.id, plan=status.plan, is_admin=user.role == "admin")


def rotate_key(
    session: Session,
    *,
    key_id: int,
    user_id: int | None,
    grace: timedelta,
    pepper: bytes,
    now: datetime,
) -> tuple[KeyInfo, str]:
    """A new key with the old one's settings; the old one keeps working for ``grace``.

    NotFoundError for a key not theirs; ConflictError for a key already revoked, expired
    or rotated; ValidationError for a grace period outside 0 to 30 days."""
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise ValidationError("grace: between 0 and 720 hours.")
    old = _owned(session, key_id=key_id, user_id=user_id)
    state = _info(old).state(now)
    if state != "active":
        raise ConflictError(f"This API key is {state}; only an active key can be rotated.")
    options = KeyOptions(
        name=old.name,
        scopes=old.scopes,
        expires_at=old.expires_at,
        allow=old.allow or (),
        deny=old.deny or (),
        limits=RateLimits(old.limit_minute, old.limit_hour, old.limit_day),
    )
    owner = _owner_of(session, old, now)
    new, plaintext = _insert(session, owner=owner, options=options, pepper=pepper, now=now)
    old.replaced_by_id = new.id
    old.grace_until = now + grace
    return _info(new), plaintext
