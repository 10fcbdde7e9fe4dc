"""Fan-out: a new signal (or an admin's broadcast) becomes one ``notifications`` row per user
who wants it and one ``notification_deliveries`` row per channel of theirs, under the plan's
limits. Delivery (``delivery.deliver_due``) sends what is due.

Exactly once, whatever the number of runs or workers: the (user_id, source) row is inserted
before the daily quota is claimed, in the same transaction, so a second run (or a second
worker racing the first) finds the row, or fails on the unique constraint, rolls its batch
back and finds it on the next look. The quota is claimed by a conditional UPDATE the
database serialises (``db.notifications.claim_quota``), so two workers never both get the
21st alert of a Pro user's day.

In bulk: the audience is read in a few queries, rows are written in batches of ``CHUNK``
users with executemany, and only users with a daily cap cost a statement each (the claim).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.models import Pattern, Signal, SignalPattern, Symbol
from cryptolens.db.notifications import (
    Broadcast,
    Notification,
    claim_quota,
    ensure_quota_rows,
    insert_deliveries,
    insert_notifications,
    mark_notifications,
    notification_ids,
)
from cryptolens.domain.enums import PatternType
from cryptolens.domain.quiet_hours import local_day, quiet_until
from cryptolens.notify.channel import Action, Message
from cryptolens.notify.links import PublicLinks
from cryptolens.notify.signal_message import SignalSummary, signal_message
from cryptolens.services.accounts import policy
from cryptolens.services.notifications.audience import (
    ChannelRef,
    Recipient,
    in_broadcast_audience,
    load_audience,
    wants_signal,
)
from cryptolens.services.notifications.messages import message_to_json

log = logging.getLogger(__name__)

#: Users per write transaction: big enough for executemany to pay, small enough that a
#: retried batch (another worker got there first) costs little.
CHUNK = 500
#: Tries of one batch before giving up (a unique-key race or a deadlock is retried).
ATTEMPTS = 5

QUEUED, HELD, DROPPED, CAPPED = "queued", "held", "dropped", "capped"
PENDING = "pending"
PATTERN_ORDER = {p.value: i for i, p in enumerate(PatternType)}


@dataclass(frozen=True, slots=True)
class FanoutReport:
    """``considered``: users who want it; ``queued``/``held``: notified now or after quiet
    hours; ``dropped``: in quiet hours (drop mode); ``capped``: over the daily cap;
    ``limit_notices``: "limit reached" notices created; ``already``: notified by an earlier
    run or another worker."""

    considered: int = 0
    queued: int = 0
    held: int = 0
    dropped: int = 0
    capped: int = 0
    limit_notices: int = 0
    already: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Planned:
    """What one recipient gets: ``status`` queued, held or dropped; ``cap`` None: unlimited."""

    recipient: Recipient
    status: str
    deliver_after: datetime
    day: date
    cap: int | None

    @property
    def user_id(self) -> int:
        return self.recipient.user_id


@dataclass(frozen=True, slots=True)
class Batch:
    """What every row of one fan-out shares."""

    source: str
    kind: str
    message: dict[str, Any]
    links: PublicLinks
    now: datetime
    signal_id: int | None = None
    broadcast_id: int | None = None


def fan_out_signal(
    engine: Engine, settings: Settings, *, signal_id: int, now: datetime
) -> FanoutReport:
    """Notify every user who wants signal ``signal_id``; safe to run again, or on two workers
    at once (nothing is created twice, no alert counted twice)."""
    with Session(engine) as session:
        summary = load_signal_summary(session, signal_id=signal_id)
        audience = load_audience(session, settings, now=now) if summary is not None else []
    if summary is None:
        return FanoutReport()
    links = PublicLinks(settings.resolved_public_url)
    wanted = [r for r in audience if wants_signal(r, summary)]
    batch = Batch(
        source=f"signal:{signal_id}",
        kind="signal",
        message=message_to_json(signal_message(summary, links)),
        links=links,
        now=now,
        signal_id=signal_id,
    )
    return write_all(engine, batch, [plan_signal(r, now) for r in wanted])


def fan_out_broadcast(
    engine: Engine, settings: Settings, *, broadcast_id: int, now: datetime
) -> FanoutReport:
    """Notify a broadcast's audience (everyone, or one plan's users): no daily cap, no delay;
    held, never dropped, in quiet hours. Records the number of recipients on the broadcast."""
    with Session(engine) as session:
        found = session.get(Broadcast, broadcast_id)
        if found is None:
            return FanoutReport()
        audience_code, title, body = found.audience, found.title, found.body
        audience = load_audience(session, settings, now=now)
    links = PublicLinks(settings.resolved_public_url)
    recipients = [r for r in audience if in_broadcast_audience(r, audience_code)]
    message = Message(
        title=title, body=body, click_url=links.notifications(), tags=("loudspeaker",)
    )
    batch = Batch(
        source=f"broadcast:{broadcast_id}",
        kind="broadcast",
        message=message_to_json(message),
        links=links,
        now=now,
        broadcast_id=broadcast_id,
    )
    report = write_all(engine, batch, [plan_broadcast(r, now) for r in recipients])
    with Session(engine) as session, session.begin():
        row = session.get(Broadcast, broadcast_id)
        if row is not None:
            row.recipients = (
                session.scalar(
                    select(func.count())
                    .select_from(Notification)
                    .where(Notification.broadcast_id == broadcast_id)
                )
                or 0
            )
    return report


def load_signal_summary(session: Session, *, signal_id: int) -> SignalSummary | None:
    """The signal as an alert describes it, with the pattern types of its zones."""
    row = session.execute(
        select(Signal, Symbol.symbol)
        .join(Symbol, Symbol.id == Signal.symbol_id)
        .where(Signal.id == signal_id)
    ).one_or_none()
    if row is None:
        return None
    signal, symbol = row.tuple()
    types = session.scalars(
        select(Pattern.pattern_type)
        .distinct()
        .join(SignalPattern, SignalPattern.pattern_id == Pattern.id)
        .where(SignalPattern.signal_id == signal_id)
    ).all()
    return SignalSummary(
        id=signal.id,
        symbol=symbol,
        direction=signal.direction,
        confluence=signal.confluence,
        timeframes=tuple(tf for tf in signal.timeframes.split(",") if tf),
        pattern_types=tuple(sorted(types, key=lambda t: PATTERN_ORDER.get(t, len(PATTERN_ORDER)))),
        entry=signal.entry,
        stop=signal.stop,
        target_1=signal.target_1,
        target_2=signal.target_2,
        target_3=signal.target_3,
        risk_reward=signal.risk_reward,
        created_at=signal.created_at,
    )


def plan_signal(recipient: Recipient, now: datetime) -> Planned:
    """Quiet hours (drop, or hold to their end), the Free delay and the daily cap in force."""
    prefs = recipient.preferences
    cap = policy.effective_daily_cap(recipient, prefs.daily_cap)
    _, delay = policy.notification_limits(recipient)
    status, after = QUEUED, now
    until = _quiet_end(recipient, now)
    if until is not None:
        status, after = (DROPPED, now) if prefs.quiet_mode == "drop" else (HELD, until)
    after = max(after, now + timedelta(seconds=delay))
    return Planned(recipient, status, after, local_day(now, recipient.timezone), cap)


def plan_broadcast(recipient: Recipient, now: datetime) -> Planned:
    until = _quiet_end(recipient, now)
    status, after = (QUEUED, now) if until is None else (HELD, until)
    return Planned(recipient, status, after, local_day(now, recipient.timezone), None)


def _quiet_end(recipient: Recipient, now: datetime) -> datetime | None:
    prefs = recipient.preferences
    if prefs.quiet_start is None or prefs.quiet_end is None:
        return None
    return quiet_until(now, prefs.quiet_start, prefs.quiet_end, recipient.timezone)


def write_all(engine: Engine, batch: Batch, planned: Sequence[Planned]) -> FanoutReport:
    """Write ``planned`` (ordered by user id) in batches of CHUNK users."""
    totals: Counter[str] = Counter()
    for start in range(0, len(planned), CHUNK):
        totals.update(write_chunk(engine, batch, planned[start : start + CHUNK]))
    return FanoutReport(considered=len(planned), **totals)


def write_chunk(engine: Engine, batch: Batch, chunk: Sequence[Planned]) -> Counter[str]:
    """One batch in one transaction, retried from a fresh look when another worker wrote
    one of its rows first (unique constraint) or the database chose it as a deadlock victim."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with Session(engine) as session, session.begin():
                return _write(session, batch, chunk)
        except (IntegrityError, OperationalError) as exc:
            if attempt == ATTEMPTS:
                raise
            log.info(
                "fan-out %s: %s; looking again (try %d)",
                batch.source,
                type(exc.orig).__name__,
                attempt + 1,
            )
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


def _write(session: Session, batch: Batch, chunk: Sequence[Planned]) -> Counter[str]:
    counts: Counter[str] = Counter()
    keys = {p.user_id: (p.user_id, batch.source) for p in chunk}
    existing = notification_ids(session, keys=list(keys.values()))
    fresh = [p for p in chunk if keys[p.user_id] not in existing]
    counts["already"] = len(chunk) - len(fresh)
    # The unique row first: a racing worker's insert fails here, before any quota is claimed.
    insert_notifications(session, [_notification_row(batch, p) for p in fresh])
    ids = notification_ids(session, keys=[keys[p.user_id] for p in fresh])
    counted = [p for p in fresh if p.cap is not None and p.status != DROPPED]
    denied = _claim(session, counted)
    mark_notifications(session, ids=[ids[keys[p.user_id]] for p in denied], status=CAPPED)
    refused = {p.user_id for p in denied}
    deliveries: list[dict[str, Any]] = []
    for p in fresh:
        if p.status == DROPPED or p.user_id in refused:
            counts[DROPPED if p.status == DROPPED else CAPPED] += 1
            continue
        counts[p.status] += 1
        deliveries += _delivery_rows(batch, ids[keys[p.user_id]], p)
    notices, notice_deliveries = _limit_notices(session, batch, denied)
    counts["limit_notices"] = notices
    insert_deliveries(session, deliveries + notice_deliveries)
    return counts


def _claim(session: Session, counted: Sequence[Planned]) -> list[Planned]:
    """Claim one alert of each user's day; returns those over their cap."""
    if not counted:
        return []
    ensure_quota_rows(session, user_days=[(p.user_id, p.day) for p in counted])
    return [
        p
        for p in counted
        if p.cap is not None and not claim_quota(session, user_id=p.user_id, day=p.day, cap=p.cap)
    ]


def _limit_notices(
    session: Session, batch: Batch, denied: Sequence[Planned]
) -> tuple[int, list[dict[str, Any]]]:
    """One "daily alert limit reached" notice per user and local day (not counted)."""
    if not denied:
        return 0, []
    keys = {p.user_id: (p.user_id, f"limit:{p.day.isoformat()}") for p in denied}
    existing = notification_ids(session, keys=list(keys.values()))
    new = [p for p in denied if keys[p.user_id] not in existing]
    rows = [
        _notification_row(
            batch, p, source=keys[p.user_id][1], kind="limit", message=_limit_message(batch, p)
        )
        for p in new
    ]
    insert_notifications(session, rows)
    ids = notification_ids(session, keys=[keys[p.user_id] for p in new])
    deliveries = [d for p in new for d in _delivery_rows(batch, ids[keys[p.user_id]], p)]
    return len(new), deliveries


def _limit_message(batch: Batch, planned: Planned) -> dict[str, Any]:
    url = batch.links.notifications()
    message = Message(
        title="Daily alert limit reached",
        body=f"Daily alert limit reached ({planned.cap}) — upgrade or raise your cap.",
        tags=("warning",),
        click_url=url,
        actions=(Action("Alert settings", url),),
    )
    return message_to_json(message)


def _notification_row(
    batch: Batch,
    planned: Planned,
    *,
    source: str | None = None,
    kind: str | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    own = source is None  # the fan-out's own row, not a limit notice
    return {
        "user_id": planned.user_id,
        "source": source or batch.source,
        "kind": kind or batch.kind,
        "signal_id": batch.signal_id if own else None,
        "broadcast_id": batch.broadcast_id if own else None,
        "message": message or batch.message,
        "status": planned.status,
        "deliver_after": planned.deliver_after,
        "local_day": planned.day,
        "created_at": batch.now,
    }


def _delivery_rows(batch: Batch, notification_id: int, planned: Planned) -> list[dict[str, Any]]:
    return [
        {
            "notification_id": notification_id,
            "channel_id": channel.id,
            "user_id": planned.user_id,
            "kind": channel.kind,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": first_attempt_at(channel, planned.deliver_after),
            "created_at": batch.now,
        }
        for channel in planned.recipient.channels
    ]


def first_attempt_at(channel: ChannelRef, deliver_after: datetime) -> datetime:
    """When a delivery is first due: at ``deliver_after``, or for an email digest at the next
    full hour (every alert of the hour goes out in one email)."""
    if channel.kind != "email" or channel.email_mode != "digest":
        return deliver_after
    hour = deliver_after.replace(minute=0, second=0, microsecond=0)
    return hour if hour == deliver_after else hour + timedelta(hours=1)
