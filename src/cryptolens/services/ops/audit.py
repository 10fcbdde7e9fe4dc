"""The audit log of administrator actions: written in the action's own transaction (an
action that rolls back leaves no row), read a page at a time, newest first."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.audit import AuditEntry

#: Keys whose values never reach the log (any key containing one of these words).
_SECRET_KEY = re.compile(r"pass|secret|token|cookie|csrf|session|auth|key|otp|code", re.I)
REMOVED = "[removed]"
MAX_DETAILS = 4000
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, and from where (the client address as the app trusts it)."""

    user_id: int | None
    email: str
    client_ip: str


@dataclass(frozen=True, slots=True)
class AuditView:
    id: int
    created_at: datetime
    actor_email: str
    action: str
    target: str
    details: str
    client_ip: str


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditView]
    page: int
    pages: int
    total: int


def scrub(details: Mapping[str, object]) -> dict[str, object]:
    """``details`` with secret-looking keys' values removed (nested mappings too)."""
    clean: dict[str, object] = {}
    for key, value in details.items():
        if _SECRET_KEY.search(key):
            clean[key] = REMOVED
        elif isinstance(value, Mapping):
            clean[key] = scrub(value)
        else:
            clean[key] = value
    return clean


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    target: str = "",
    details: Mapping[str, object] | None = None,
    now: datetime,
) -> None:
    """Add one audit row to ``session`` (committed with the action)."""
    text = json.dumps(scrub(details or {}), default=str, sort_keys=True)
    if len(text) > MAX_DETAILS:
        text = json.dumps({"truncated": text[: MAX_DETAILS - 40]})
    session.add(
        AuditEntry(
            created_at=now,
            actor_id=actor.user_id,
            actor_email=actor.email[:320],
            action=action[:64],
            target=target[:200],
            details=text,
            client_ip=actor.client_ip[:45],
        )
    )


def clamp_page(total: int, page: int, size: int) -> tuple[int, int]:
    """(page, pages) for ``total`` rows ``size`` a page: ``page`` kept within 1..pages."""
    pages = max(1, -(-total // size))
    return min(max(page, 1), pages), pages


def audit_page(session: Session, *, page: int = 1, size: int = PAGE_SIZE) -> AuditPage:
    """Page ``page`` (from 1; clamped to the last) of the log, newest first."""
    total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    page, pages = clamp_page(total, page, size)
    rows = session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    entries = [
        AuditView(
            id=r.id,
            created_at=r.created_at,
            actor_email=r.actor_email,
            action=r.action,
            target=r.target,
            details=r.details,
            client_ip=r.client_ip,
        )
        for r in rows
    ]
    return AuditPage(entries=entries, page=page, pages=pages, total=total)
