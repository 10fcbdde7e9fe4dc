"""Delivering due notification rows: claim them under a lease, send them all at once, record
every attempt, retry with back-off, pause channels that keep failing.

A row is claimed by one conditional UPDATE (``pending`` and due, or ``sending`` with an
expired lease -> ``sending`` with a 90 s lease). On PostgreSQL and SQLite the UPDATE picks
its rows itself (``WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING id``); on
MariaDB, which has no UPDATE … RETURNING, the rows are locked (``SKIP LOCKED``) then updated
in one transaction. Either way two workers never hold the same row, so nothing is sent twice
unless a worker dies mid-send (its lease expires and the row is sent again: at least once).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.accounts import User
from cryptolens.db.notifications import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
)
from cryptolens.db.transactions import claim_once
from cryptolens.infra import metrics
from cryptolens.notify.channel import Delivered, Message, Permanent
from cryptolens.notify.links import PublicLinks
from cryptolens.notify.send import deliver_all
from cryptolens.notify.targets import ChannelKind, Target
from cryptolens.services.accounts.twofactor import SecretBox
from cryptolens.services.notifications.channels import open_target, target_box
from cryptolens.services.notifications.emails import alert_email, digest_email
from cryptolens.services.notifications.messages import message_from_json
from cryptolens.services.notifications.outcomes import (
    CHANNELS,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    Batch,
    Claimed,
    DeliveryReport,
    write_batch,
)
from cryptolens.services.ops.mail import deliver_now
from cryptolens.services.ops.outbox import outbox_box, queue_email

LEASE = timedelta(seconds=90)
#: Consecutive permanent failures after which a channel is paused.
PAUSE_AFTER = 3
#: Ids per IN (...) list.
CHUNK = 1000
#: Seconds between renewals of the lease on rows being sent (well within LEASE).
RENEW_EVERY = 30.0
#: Emails sent at the end of a run; more wait for the outbox's own job (deliver_outbox).
INLINE_EMAILS = 100

D = NotificationDelivery
N = Notification
C = NotificationChannel


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _due(now: datetime) -> Any:
    ready = exists().where(
        N.id == D.notification_id, N.status.in_(("queued", "held")), N.deliver_after <= now
    )
    return or_(
        and_(D.status == PENDING, D.next_attempt_at <= now, ready),
        and_(D.status == SENDING, D.lease_until < now),
    )


def claim_due(engine: Engine, *, now: datetime, limit: int) -> tuple[list[int], datetime]:
    """Take up to ``limit`` due rows for this caller (committed) and the lease they carry."""
    lease = now + LEASE
    pick = select(D.id).where(_due(now)).order_by(D.next_attempt_at, D.id).limit(limit)
    take = update(D).values(status=SENDING, lease_until=lease)
    with engine.begin() as connection:
        if connection.dialect.update_returning:
            if connection.dialect.name != "sqlite":  # SQLite has one writer at a time anyway
                pick = pick.with_for_update(skip_locked=True)
            statement = take.where(D.id.in_(pick), _due(now)).returning(D.id)
            return sorted(connection.execute(statement).scalars()), lease
        # MariaDB: a locking read that sorts would lock every row it read, so candidates are
        # read without locks, then locked by primary key (skipping rows another worker holds)
        # and re-checked as they are locked; the rows locked are exactly the rows updated.
        claimed: list[int] = []
        for chunk in _chunks(list(connection.execute(pick).scalars())):
            locked = list(
                connection.execute(
                    select(D.id).where(D.id.in_(chunk), _due(now)).with_for_update(skip_locked=True)
                ).scalars()
            )
            if locked:
                connection.execute(take.where(D.id.in_(locked)))
                claimed += locked
    return sorted(claimed), lease


@dataclass(frozen=True, slots=True)
class _Loaded:
    claimed: Claimed
    enabled: bool
    paused: bool
    sealed: str
    email_mode: str
    message: dict[str, Any]
    email: str


def _load(engine: Engine, ids: Sequence[int]) -> list[_Loaded]:
    query = (
        select(
            D.id,
            D.notification_id,
            D.channel_id,
            D.user_id,
            D.kind,
            D.attempts,
            D.first_attempt_at,
            C.enabled,
            C.paused_at,
            C.target_encrypted,
            C.email_mode,
            N.message,
            User.email,
        )
        .join(C, C.id == D.channel_id)
        .join(N, N.id == D.notification_id)
        .join(User, User.id == D.user_id)
    )
    loaded = []
    with engine.connect() as connection:
        for chunk in _chunks(ids):
            for row in connection.execute(query.where(D.id.in_(chunk))):
                claimed = Claimed(*row[:7])
                enabled, paused_at, sealed, mode, message, email = row[7:]
                loaded.append(
                    _Loaded(
                        claimed, bool(enabled), paused_at is not None, sealed, mode, message, email
                    )
                )
    return loaded


@dataclass
class _Sorted:
    jobs: list[tuple[Target, Message]]
    sends: list[Claimed]
    emails: list[_Loaded]


def _sort(rows: Sequence[_Loaded], batch: Batch, box: SecretBox) -> _Sorted:
    """Skip rows of paused or disabled channels, set email rows aside, open the targets."""
    found = _Sorted([], [], [])
    for row in rows:
        if row.paused or not row.enabled:
            batch.skip(row.claimed, "channel paused" if row.paused else "channel turned off")
        elif row.claimed.kind == ChannelKind.EMAIL:
            found.emails.append(row)
        elif (target := open_target(box, row.sealed)) is None:
            batch.record(row.claimed, Permanent("channel settings unreadable; set it again"))
        else:
            found.jobs.append((target, message_from_json(row.message)))
            found.sends.append(row.claimed)
    return found


def _queue_emails(
    session: Session, box: SecretBox, batch: Batch, rows: Sequence[_Loaded]
) -> list[int]:
    """One outbox email per row, or one digest per user in digest mode; rows count as sent."""
    digests: dict[int, list[_Loaded]] = defaultdict(list)
    outbox_ids = []
    for row in rows:
        if row.email_mode == "digest":
            digests[row.claimed.user_id].append(row)
            continue
        message = alert_email(message_from_json(row.message))
        outbox_ids.append(
            queue_email(session, recipient=row.email, message=message, box=box, now=batch.now)
        )
        batch.record(row.claimed, Delivered(), note=f"queued as email #{outbox_ids[-1]}")
    for group in digests.values():
        digest = digest_email([message_from_json(row.message) for row in group])
        outbox_ids.append(
            queue_email(session, recipient=group[0].email, message=digest, box=box, now=batch.now)
        )
        for row in group:
            batch.record(row.claimed, Delivered(), note=f"in digest email #{outbox_ids[-1]}")
    return outbox_ids


def _pause_message(kind: str, reason: str, links: PublicLinks) -> Message:
    body = (
        f"Your {kind} alerts failed {PAUSE_AFTER} times in a row ({reason or 'refused'}), so "
        f"CryptoLens paused them. Check the channel's settings, then resume it or send a "
        f"test: {links.notifications()}"
    )
    html = f"<p>{body}</p>"
    return Message(title=f"CryptoLens paused your {kind} alerts", body=body + "\n", html=html)


def _pause_failing(session: Session, settings: Settings, batch: Batch) -> list[int]:
    """Pause channels at PAUSE_AFTER consecutive permanent failures; email each owner once
    (``paused_notified_at`` claimed). Returns the outbox ids queued."""
    if not batch.failures:
        return []
    session.execute(
        update(CHANNELS)
        .where(
            CHANNELS.c.id == bindparam("c_id"),
            CHANNELS.c.consecutive_failures >= PAUSE_AFTER,
            CHANNELS.c.paused_at.is_(None),
        )
        .values(paused_at=batch.now, pause_reason=bindparam("c_reason")),
        [
            {"c_id": cid, "c_reason": batch.reasons.get(cid, "")[:255]}
            for cid in sorted(batch.failures)
        ],
    )
    paused = session.execute(
        select(C.id, C.kind, C.pause_reason, User.email)
        .join(User, User.id == C.user_id)
        .where(
            C.id.in_(sorted(batch.failures)),
            C.paused_at.is_not(None),
            C.paused_notified_at.is_(None),
        )
    ).all()
    links, box, outbox_ids = PublicLinks(settings.resolved_public_url), outbox_box(settings), []
    for channel_id, kind, reason, email in paused:
        if claim_once(
            session,
            update(C)
            .where(C.id == channel_id, C.paused_notified_at.is_(None))
            .values(paused_notified_at=batch.now),
        ):
            message = _pause_message(kind, reason or "", links)
            outbox_ids.append(
                queue_email(session, recipient=email, message=message, box=box, now=batch.now)
            )
    return outbox_ids


def _finish_notifications(session: Session, notification_ids: set[int]) -> None:
    """Notifications whose deliveries are all final become ``done``."""
    open_delivery = exists().where(D.notification_id == N.id, D.status.in_((PENDING, SENDING)))
    for chunk in _chunks(sorted(notification_ids)):
        session.execute(
            update(N)
            .where(N.id.in_(chunk), N.status.in_(("queued", "held")), ~open_delivery)
            .values(status="done")
            .execution_options(synchronize_session=False)
        )


def _send_emails(engine: Engine, settings: Settings, outbox_ids: Sequence[int]) -> None:
    if not settings.smtp_host:
        return  # kept in the outbox until SMTP is configured
    for outbox_id in outbox_ids[:INLINE_EMAILS]:
        deliver_now(engine, settings, outbox_id)


class LeaseKeeper:
    """Extends a round's lease every RENEW_EVERY seconds while its rows are being sent, so a
    slow far end never lets another worker take (and send again) a row still in flight; a
    worker that dies stops renewing, and its rows are free LEASE seconds later."""

    def __init__(self, engine: Engine, ids: Sequence[int], *, lease: datetime) -> None:
        self.lease = lease
        self._engine, self._ids = engine, ids
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(RENEW_EVERY):
            renewed = self.lease + timedelta(seconds=RENEW_EVERY)
            with self._engine.begin() as connection:
                for chunk in _chunks(self._ids):
                    connection.execute(
                        update(D)
                        .where(D.id.in_(chunk), D.status == SENDING, D.lease_until == self.lease)
                        .values(lease_until=renewed)
                    )
            self.lease = renewed


def _deliver_round(
    engine: Engine, settings: Settings, *, now: datetime, limit: int, rng: random.Random
) -> DeliveryReport:
    ids, lease = claim_due(engine, now=now, limit=limit)
    if not ids:
        return DeliveryReport()
    batch = Batch(now, rng)
    found = _sort(_load(engine, ids), batch, target_box(settings))
    with LeaseKeeper(engine, ids, lease=lease) as keeper:
        outcomes = asyncio.run(
            deliver_all(
                found.jobs,
                concurrency=settings.notify_concurrency,
                timeout=settings.notify_timeout_seconds,
                allow_private=settings.notify_allow_private_targets,
            )
        )
    lease = keeper.lease
    for claimed, outcome in zip(found.sends, outcomes, strict=True):
        batch.record(claimed, outcome.result, http=outcome.status, seconds=outcome.seconds)
    with Session(engine) as session, session.begin():
        emails = _queue_emails(session, outbox_box(settings), batch, found.emails)
        write_batch(session, batch, lease=lease)
        notices = _pause_failing(session, settings, batch)
        _finish_notifications(session, batch.notifications)
    metrics.count_notifications(batch.sent_by_channel)  # once the outcomes are committed
    _send_emails(engine, settings, [*notices, *emails])
    return DeliveryReport(
        claimed=len(ids),
        sent=batch.tally[SENT],
        retried=batch.tally["retried"],
        failed=batch.tally[FAILED],
        skipped=batch.tally[SKIPPED],
        paused=len(notices),
        emails=len(emails),
    )


#: Rows claimed (and leased) at a time, and how long one call goes on claiming more rounds:
#: well inside the high queue's one-minute timeout.
ROUND = 5000
BUDGET_SECONDS = 40.0


def deliver_due(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    limit: int = 100_000,
    rng: random.Random | None = None,
    budget_seconds: float = BUDGET_SECONDS,
) -> DeliveryReport:
    """Send every due delivery (up to ``limit``, ROUND rows at a time while the time budget
    lasts), record the attempts and outcomes, and hand the emails among them to the outbox.
    Safe to run on several workers at once; what is left waits for the next run."""
    chance = rng or random.Random()
    total = DeliveryReport()
    started = time.monotonic()
    while total.claimed < limit:
        size = min(ROUND, limit - total.claimed)
        report = _deliver_round(engine, settings, now=now, limit=size, rng=chance)
        total += report
        if report.claimed < size or time.monotonic() - started > budget_seconds:
            break
    return total
