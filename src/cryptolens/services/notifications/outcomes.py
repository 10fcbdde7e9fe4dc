"""What one send did to its delivery row: an attempt recorded, the row sent, retried later
(exponential back-off with jitter, honouring Retry-After) or failed, and the channel's
failure count. Collected per batch, then written with a handful of bulk statements."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from cryptolens.db.base import UTCDateTime
from cryptolens.db.notifications import (
    NotificationAttempt,
    NotificationChannel,
    NotificationDelivery,
)
from cryptolens.notify.channel import Delivered, DeliveryResult, Permanent, Retryable

#: A retryable delivery is given up once its first attempt is this old.
GIVE_UP_AFTER = timedelta(hours=1)
BACKOFF_BASE = 5.0
BACKOFF_MAX = 600.0
MAX_ERROR = 500

SENDING = "sending"
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"


def retry_delay(attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds before the next try after ``attempts`` tries: min(600, 5 x 2^(attempts-1))
    scaled by a jitter in [0.5, 1.5], or the far end's Retry-After when that is longer."""
    backoff = min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** max(attempts - 1, 0)) * rng.uniform(0.5, 1.5)
    return max(retry_after or 0.0, backoff)


def aware(moment: datetime) -> datetime:
    # SQLite hands naive datetimes back through Core rows; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claimed delivery and what sending it needs."""

    id: int
    notification_id: int
    channel_id: int
    user_id: int
    kind: str
    attempts: int
    first_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One ``deliver_due`` run: rows claimed, and what became of them (``paused``: channels
    paused by this run, their owners told by email)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    paused: int = 0
    emails: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        mine, theirs = self.counts(), other.counts()
        return DeliveryReport(**{name: mine[name] + theirs[name] for name in mine})


@dataclass
class Batch:
    """The writes a batch of outcomes needs, gathered in memory."""

    now: datetime
    rng: random.Random
    updates: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    succeeded: set[int] = field(default_factory=set)
    failures: Counter[int] = field(default_factory=Counter)
    reasons: dict[int, str] = field(default_factory=dict)
    notifications: set[int] = field(default_factory=set)
    tally: Counter[str] = field(default_factory=Counter)
    #: Deliveries that succeeded, by channel kind (email: handed to the outbox).
    sent_by_channel: Counter[str] = field(default_factory=Counter)

    def _update(self, row: Claimed, status: str, **values: Any) -> None:
        self.notifications.add(row.notification_id)
        self.tally[status] += 1
        self.updates.append(
            {
                "d_id": row.id,
                "d_status": status,
                "d_attempts": values.get("attempts", row.attempts),
                "d_first": values.get("first", row.first_attempt_at),
                "d_sent": values.get("sent"),
                "d_error": values.get("error"),
                "d_next": values.get("next", self.now),
            }
        )

    def skip(self, row: Claimed, reason: str) -> None:
        self._update(row, SKIPPED, error=reason[:MAX_ERROR])

    def record(
        self,
        row: Claimed,
        result: DeliveryResult,
        *,
        http: int | None = None,
        seconds: float = 0.0,
        note: str = "",
    ) -> None:
        """Note one try of ``row`` and decide its next state (``note``: the attempt's detail
        when it was delivered)."""
        attempts = row.attempts + 1
        first = row.first_attempt_at or self.now
        detail = note if isinstance(result, Delivered) else result.reason[:MAX_ERROR]
        self.attempts.append(
            {
                "delivery_id": row.id,
                "at": self.now,
                "outcome": type(result).__name__.lower(),
                "http_status": http,
                "detail": detail,
                "seconds": seconds,
            }
        )
        done = {"attempts": attempts, "first": first}
        if isinstance(result, Delivered):
            self.succeeded.add(row.channel_id)
            self.sent_by_channel[row.kind] += 1
            self._update(row, SENT, sent=self.now, **done)
        elif isinstance(result, Permanent):
            self.failures[row.channel_id] += 1
            self.reasons[row.channel_id] = detail
            self._update(row, FAILED, error=detail, **done)
        elif self.now - aware(first) > GIVE_UP_AFTER:
            self._update(row, FAILED, error=f"gave up after an hour: {detail}"[:MAX_ERROR], **done)
        else:
            self._retry(row, result, detail, done)

    def _retry(self, row: Claimed, result: Retryable, detail: str, done: dict[str, Any]) -> None:
        wait = retry_delay(done["attempts"], result.retry_after, self.rng)
        self._update(row, PENDING, error=detail, next=self.now + timedelta(seconds=wait), **done)
        self.tally["retried"] += 1


_DELIVERY = cast(Table, NotificationDelivery.__table__)
CHANNELS = cast(Table, NotificationChannel.__table__)


def write_batch(session: Session, batch: Batch, *, lease: datetime) -> None:
    """The batch's delivery updates, attempts and channel counters, as bulk statements.
    A row is only updated while this run's lease on it holds."""
    if batch.updates:
        session.execute(
            update(_DELIVERY)
            .where(
                _DELIVERY.c.id == bindparam("d_id"),
                _DELIVERY.c.status == SENDING,
                _DELIVERY.c.lease_until == bindparam("d_lease", type_=UTCDateTime()),
            )
            .values(
                status=bindparam("d_status"),
                attempts=bindparam("d_attempts"),
                first_attempt_at=bindparam("d_first", type_=UTCDateTime()),
                sent_at=bindparam("d_sent", type_=UTCDateTime()),
                last_error=bindparam("d_error"),
                next_attempt_at=bindparam("d_next", type_=UTCDateTime()),
                lease_until=None,
            ),
            [update | {"d_lease": lease} for update in batch.updates],
        )
    if batch.attempts:
        session.execute(insert(NotificationAttempt), batch.attempts)
    if batch.succeeded:
        session.execute(
            update(CHANNELS)
            .where(CHANNELS.c.id == bindparam("c_id"))
            .values(consecutive_failures=0, last_success_at=batch.now),
            [{"c_id": channel_id} for channel_id in sorted(batch.succeeded)],
        )
    if batch.failures:
        session.execute(
            update(CHANNELS)
            .where(CHANNELS.c.id == bindparam("c_id"))
            .values(consecutive_failures=CHANNELS.c.consecutive_failures + bindparam("c_n")),
            [{"c_id": cid, "c_n": n} for cid, n in sorted(batch.failures.items())],
        )
