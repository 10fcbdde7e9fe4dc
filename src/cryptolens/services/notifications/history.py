"""What a user was told and how each channel fared (the history page), and the delivery rows
an operator lists (``cryptolens notify deliveries``). Errors are shown redacted: a stored
reason never names a token, but anything URL- or token-shaped is cut all the same."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.db.notifications import Notification, NotificationDelivery

_URL = re.compile(r"([a-z][a-z0-9+.-]*://)\S+", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,}")


def redact_error(text: str | None) -> str | None:
    """``text`` with URLs cut to their scheme and long token-like words hidden."""
    if text is None:
        return None
    return _TOKEN.sub("…", _URL.sub(r"\1…", text))


@dataclass(frozen=True, slots=True)
class ChannelDelivery:
    kind: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One notification and its delivery on each channel."""

    id: int
    created_at: datetime
    kind: str
    title: str
    status: str
    deliver_after: datetime
    deliveries: tuple[ChannelDelivery, ...]


def user_history(session: Session, *, user_id: int, limit: int = 100) -> list[HistoryRow]:
    """The user's latest notifications, newest first, with their deliveries (two queries)."""
    notes = session.execute(
        select(
            Notification.id,
            Notification.created_at,
            Notification.kind,
            Notification.message,
            Notification.status,
            Notification.deliver_after,
        )
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()
    by_note: dict[int, list[ChannelDelivery]] = defaultdict(list)
    if notes:
        rows = session.execute(
            select(
                NotificationDelivery.notification_id,
                NotificationDelivery.kind,
                NotificationDelivery.status,
                NotificationDelivery.attempts,
                NotificationDelivery.last_error,
                NotificationDelivery.sent_at,
            )
            .where(NotificationDelivery.notification_id.in_([n.id for n in notes]))
            .order_by(NotificationDelivery.id)
        ).all()
        for note_id, kind, status, attempts, error, sent_at in rows:
            by_note[note_id].append(
                ChannelDelivery(kind, status, attempts, redact_error(error), sent_at)
            )
    return [
        HistoryRow(
            id=n.id,
            created_at=n.created_at,
            kind=n.kind,
            title=str((n.message or {}).get("title", "")),
            status=n.status,
            deliver_after=n.deliver_after,
            deliveries=tuple(by_note[n.id]),
        )
        for n in notes
    ]


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One delivery row as an operator sees it."""

    id: int
    user_email: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    source: str
    next_attempt_at: datetime


def deliveries(
    session: Session, *, signal_id: int | None = None, limit: int = 200
) -> list[DeliveryRow]:
    """The latest delivery rows (of one signal's notifications when ``signal_id`` is given)."""
    query = (
        select(
            NotificationDelivery.id,
            User.email,
            NotificationDelivery.kind,
            NotificationDelivery.status,
            NotificationDelivery.attempts,
            NotificationDelivery.last_error,
            Notification.source,
            NotificationDelivery.next_attempt_at,
        )
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .join(User, User.id == NotificationDelivery.user_id)
        .order_by(NotificationDelivery.id.desc())
        .limit(limit)
    )
    if signal_id is not None:
        query = query.where(Notification.signal_id == signal_id)
    return [
        DeliveryRow(id_, email, kind, status, attempts, redact_error(error), source, next_at)
        for id_, email, kind, status, attempts, error, source, next_at in session.execute(query)
    ]
