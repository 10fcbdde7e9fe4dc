"""Notification tables: each user's channels and alert preferences, one ``notifications`` row
per thing a user is told (a signal, a broadcast, a "limit reached" notice, a test), one
``notification_deliveries`` row per (notification, channel) with its attempts, and the daily
quota counted by a conditional update.

Uniqueness carries the delivery guarantee: ``(user_id, source)`` on notifications and
``(notification_id, channel_id)`` on deliveries, so a fan-out that runs twice, or on two
workers at once, creates each row once and therefore sends each message once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from cryptolens.clock import utcnow
from cryptolens.db.base import Base, UTCDateTime
from cryptolens.db.transactions import claim_once
from cryptolens.db.upsert import upsert_rows

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class NotificationChannel(Base):
    """One way of reaching a user (one per kind). The target (server, topic, URL, tokens) is
    stored only encrypted; ``display`` is its redacted form for pages and logs."""

    __tablename__ = "notification_channels"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_notification_channels_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    target_encrypted: Mapped[str] = mapped_column(Text)
    display: Mapped[str] = mapped_column(String(255))
    email_mode: Mapped[str] = mapped_column(String(12), default="per_signal")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    pause_reason: Mapped[str | None] = mapped_column(String(255), default=None)
    paused_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class NotificationPreference(Base):
    """What a user wants to hear about; no row means the defaults."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    directions: Mapped[list[str]] = mapped_column(JSON)
    min_confluence: Mapped[int] = mapped_column(Integer)
    symbols: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    timeframes: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    pattern_types: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    quiet_start: Mapped[str | None] = mapped_column(String(5), default=None)
    quiet_end: Mapped[str | None] = mapped_column(String(5), default=None)
    quiet_mode: Mapped[str] = mapped_column(String(8), default="hold")
    daily_cap: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Broadcast(Base):
    """An administrator's message to a plan's users or to everyone."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    audience: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Notification(Base):
    """One thing one user is told, whatever the number of channels. ``message`` holds the
    rendered title, body, priority, tags, links and data; ``deliver_after`` is the Free delay
    or the end of quiet hours; ``local_day`` is the user's calendar day, for the daily cap."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "source", name="uq_notifications_source"),
        Index("ix_notifications_status_deliver_after", "status", "deliver_after"),
        Index("ix_notifications_signal_id", "signal_id"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(12))
    signal_id: Mapped[int | None] = mapped_column(
        _BigId, ForeignKey("signals.id", ondelete="CASCADE"), default=None
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), default=None
    )
    message: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    deliver_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    local_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationDelivery(Base):
    """One notification on one channel: pending until sent, retried with back-off, leased
    (``lease_until``) while a worker sends it so no other worker takes it meanwhile."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel_id", name="uq_notification_deliveries"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
        Index("ix_notification_deliveries_user", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(
        _BigId, ForeignKey("notifications.id", ondelete="CASCADE")
    )
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationAttempt(Base):
    """One try at one delivery and what the far end answered."""

    __tablename__ = "notification_attempts"
    __table_args__ = (Index("ix_notification_attempts_delivery", "delivery_id"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        _BigId, ForeignKey("notification_deliveries.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(12))
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    detail: Mapped[str] = mapped_column(String(500), default="")
    seconds: Mapped[float] = mapped_column(Double, default=0.0)


class NotificationQuota(Base):
    """Notifications counted against a user's daily cap, per the user's calendar day."""

    __tablename__ = "notification_quota"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


# -- queries shared by the fan-out, delivery and history --------------------------------------

NotificationKey = tuple[int, str]  # (user_id, source)


def notification_ids(
    session: Session, *, keys: Collection[NotificationKey]
) -> dict[NotificationKey, int]:
    """Ids of the stored notifications among ``keys`` (user, source); through the unique
    (user_id, source) index. Callers pass a bounded batch (a few hundred users)."""
    if not keys:
        return {}
    users = sorted({user for user, _ in keys})
    sources = sorted({source for _, source in keys})
    rows = session.execute(
        select(Notification.user_id, Notification.source, Notification.id).where(
            Notification.user_id.in_(users), Notification.source.in_(sources)
        )
    ).all()
    wanted = set(keys)
    return {(u, s): i for u, s, i in rows if (u, s) in wanted}


def insert_notifications(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert notification rows in one executemany; a row whose (user_id, source) exists
    raises IntegrityError (the caller rolls back and looks again)."""
    if rows:
        session.execute(insert(Notification), list(rows))


def insert_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(NotificationDelivery), list(rows))


def mark_notifications(session: Session, *, ids: Collection[int], status: str) -> None:
    if ids:
        session.execute(
            update(Notification)
            .where(Notification.id.in_(sorted(ids)))
            .values(status=status)
            .execution_options(synchronize_session=False)
        )


def ensure_quota_rows(session: Session, *, user_days: Collection[tuple[int, date]]) -> None:
    """Insert the missing (user, day) quota rows at zero; existing rows are left alone."""
    rows = [{"user_id": u, "day": d, "used": 0} for u, d in sorted(set(user_days))]
    upsert_rows(
        session.connection(),
        NotificationQuota.__table__,  # type: ignore[arg-type]
        rows,
        key=("user_id", "day"),
        update=(),
    )


def claim_quota(session: Session, *, user_id: int, day: date, cap: int) -> bool:
    """Count one notification on the user's ``day`` if fewer than ``cap`` are counted: a
    conditional UPDATE the database serialises, so concurrent claims never pass the cap.
    The row must exist (``ensure_quota_rows``)."""
    return claim_once(
        session,
        update(NotificationQuota)
        .where(
            NotificationQuota.user_id == user_id,
            NotificationQuota.day == day,
            NotificationQuota.used < cap,
        )
        .values(used=NotificationQuota.used + 1),
    )


def quota_used(session: Session, *, user_id: int, day: date) -> int:
    used = session.scalar(
        select(NotificationQuota.used).where(
            NotificationQuota.user_id == user_id, NotificationQuota.day == day
        )
    )
    return int(used or 0)
