"""Notification rows for tests: users, channels (set through the service, so targets are
sealed as in production), notifications with one delivery per channel, and many of them at
once (bulk inserts) for the volume tests and the benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.accounts import OutboxEmail, User
from cryptolens.db.notifications import (
    Notification,
    NotificationAttempt,
    NotificationChannel,
    NotificationDelivery,
)
from cryptolens.notify.channel import Action, Message
from cryptolens.notify.targets import ChannelKind, ntfy_target, redact, target_to_json
from cryptolens.services.notifications.channels import set_channel, target_box
from cryptolens.services.notifications.messages import message_to_json

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MESSAGE = Message(
    title="BTC/USDT long · 3 TF",
    body="Long BTC/USDT, confluence 3",
    tags=("chart_with_upwards_trend",),
    click_url="https://cryptolens.test/signals/42",
    actions=(Action("View signal", "https://cryptolens.test/signals/42"),),
    data={"signal": {"id": 42}},
)


def add_user(engine: Engine, email: str, *, topic: str | None = None) -> int:
    """A verified user (no password anyone could use), with an old-style
    ``notification_topic``."""
    with Session(engine) as session, session.begin():
        user = User(email=email, password_hash="!", notification_topic=topic, email_verified_at=NOW)
        session.add(user)
        session.flush()
        return user.id


def add_channel(
    engine: Engine,
    settings: Settings,
    user_id: int,
    kind: ChannelKind,
    address: str = "",
    **options: Any,
) -> int:
    """Set ``kind`` up for the user through ``set_channel``; returns the channel id."""
    with Session(engine) as session, session.begin():
        set_channel(session, settings, user_id=user_id, kind=kind, address=address, **options)
        return session.scalars(
            select(NotificationChannel.id).where(
                NotificationChannel.user_id == user_id, NotificationChannel.kind == kind.value
            )
        ).one()


def add_notification(
    engine: Engine,
    user_id: int,
    *,
    source: str = "signal:42",
    message: Message = MESSAGE,
    status: str = "queued",
    deliver_after: datetime = NOW,
    kind: str = "signal",
) -> list[int]:
    """A notification with one pending delivery per channel of the user; the delivery ids."""
    with Session(engine) as session, session.begin():
        note = Notification(
            user_id=user_id,
            source=source,
            kind=kind,
            message=message_to_json(message),
            status=status,
            deliver_after=deliver_after,
            local_day=deliver_after.date(),
            created_at=deliver_after,
        )
        session.add(note)
        session.flush()
        channels = session.execute(
            select(NotificationChannel.id, NotificationChannel.kind)
            .where(NotificationChannel.user_id == user_id)
            .order_by(NotificationChannel.id)
        ).all()
        rows = [
            NotificationDelivery(
                notification_id=note.id,
                channel_id=channel_id,
                user_id=user_id,
                kind=kind_,
                next_attempt_at=deliver_after,
                created_at=deliver_after,
            )
            for channel_id, kind_ in channels
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


@dataclass(frozen=True)
class DeliveryState:
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    first_attempt_at: datetime | None


def delivery(engine: Engine, delivery_id: int) -> DeliveryState:
    with Session(engine) as session:
        row = session.get(NotificationDelivery, delivery_id)
        assert row is not None
        return DeliveryState(
            row.status, row.attempts, row.next_attempt_at, row.last_error, row.first_attempt_at
        )


def channel(engine: Engine, channel_id: int) -> NotificationChannel:
    with Session(engine) as session:
        row = session.get(NotificationChannel, channel_id)
        assert row is not None
        session.expunge(row)
        return row


def notification_status(engine: Engine, delivery_id: int) -> str:
    with Session(engine) as session:
        return session.scalars(
            select(Notification.status)
            .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
            .where(NotificationDelivery.id == delivery_id)
        ).one()


def attempt_outcomes(engine: Engine, delivery_id: int) -> list[tuple[str, int | None]]:
    with Session(engine) as session:
        rows = session.execute(
            select(NotificationAttempt.outcome, NotificationAttempt.http_status)
            .where(NotificationAttempt.delivery_id == delivery_id)
            .order_by(NotificationAttempt.id)
        ).all()
        return [(outcome, status) for outcome, status in rows]


def outbox_to(engine: Engine, recipient: str) -> list[str]:
    """Subjects of the outbox emails queued for ``recipient``."""
    with Session(engine) as session:
        return list(
            session.scalars(
                select(OutboxEmail.subject)
                .where(OutboxEmail.recipient == recipient)
                .order_by(OutboxEmail.id)
            )
        )


def count(engine: Engine, model: type[Any]) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def many_ntfy_deliveries(
    engine: Engine, settings: Settings, *, users: int, server: str, at: datetime = NOW
) -> Sequence[int]:
    """``users`` users, each with an ntfy channel on ``server`` and one pending delivery of
    one signal, inserted in bulk; returns the user ids."""
    box = target_box(settings)
    with Session(engine) as session, session.begin():
        session.execute(
            insert(User),
            [{"email": f"u{i}@bulk.test", "password_hash": "!"} for i in range(users)],
        )
        ids = list(
            session.scalars(select(User.id).where(User.email.like("%@bulk.test")).order_by(User.id))
        )
        target = ntfy_target(f"{server}/cl-bulk", default_server=server)
        sealed, shown = box.seal(target_to_json(target)), redact(target)
        session.execute(
            insert(NotificationChannel),
            [
                {"user_id": uid, "kind": "ntfy", "target_encrypted": sealed, "display": shown}
                for uid in ids
            ],
        )
        channel_ids: dict[int, int] = dict(
            session.execute(
                select(NotificationChannel.user_id, NotificationChannel.id).where(
                    NotificationChannel.user_id.in_(ids)
                )
            ).all()
        )
        stored = message_to_json(MESSAGE)
        session.execute(
            insert(Notification),
            [
                {
                    "user_id": uid,
                    "source": "signal:7",
                    "kind": "signal",
                    "message": stored,
                    "deliver_after": at,
                    "local_day": date(at.year, at.month, at.day),
                }
                for uid in ids
            ],
        )
        notes: dict[int, int] = dict(
            session.execute(
                select(Notification.user_id, Notification.id).where(
                    Notification.source == "signal:7"
                )
            ).all()
        )
        session.execute(
            insert(NotificationDelivery),
            [
                {
                    "notification_id": notes[uid],
                    "channel_id": channel_ids[uid],
                    "user_id": uid,
                    "kind": "ntfy",
                    "next_attempt_at": at,
                }
                for uid in ids
            ],
        )
    return ids
