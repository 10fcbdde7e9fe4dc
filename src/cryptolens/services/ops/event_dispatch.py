"""Dispatching domain events: each registered consumer gets every event at least once, in
order, and keeps its own cursor, so a consumer that is down catches up later and a new one
starts from the oldest event still stored.

A consumer's batch is handled first and its cursor stored after, in a second transaction: a
crash between the two hands the batch over again, which is why consumers are idempotent.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from cryptolens.config import Settings
from cryptolens.db.events import (
    SequencingConflict,
    advance_cursor,
    cursor_position,
    delete_dispatched,
    load_events,
    sequence_events,
)
from cryptolens.domain.events import Consumer, Event
from cryptolens.services.notifications.consumer import SignalAlerts, Submit, background_submit

log = logging.getLogger(__name__)

#: Events a consumer gets in one call, and calls per consumer per dispatch run (the rest
#: waits for the next run, so one run stays well inside the job's timeout).
BATCH = 500
MAX_BATCHES = 40


class EventLog:
    """Logs how many events of each type went by: the first consumer, and a heartbeat an
    operator can read. Handling a batch twice logs it twice and changes nothing."""

    name = "log"

    def handle(self, events: Sequence[Event]) -> None:
        counts = Counter(e.type.value for e in events)
        log.info(
            "events %d..%d: %s",
            events[0].position,
            events[-1].position,
            ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())),
        )


def registered_consumers(
    engine: Engine,
    settings: Settings,
    *,
    redis: Redis[bytes] | None = None,
    submit_signal: Submit | None = None,
) -> list[Consumer]:
    """The consumers the ``dispatch_events`` job serves (the real-time stream and metrics
    register here as they arrive). Signal alerts go through ``submit_signal`` (default: the
    ``send_signal_notifications`` job, in-process without ``redis``)."""
    submit = submit_signal or background_submit(engine, settings, redis)
    return [EventLog(), SignalAlerts(submit)]


@dataclass(frozen=True, slots=True)
class DispatchReport:
    sequenced: int
    handled: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sequenced": self.sequenced}
        out |= {f"handled_{name}": n for name, n in self.handled.items()}
        if self.failed:
            out["failed"] = self.failed
        return out


def sequence_pending(engine: Engine) -> int:
    """Give dispatch positions to every committed, unsequenced event."""
    total = 0
    while True:
        try:
            with engine.begin() as connection:
                done = sequence_events(connection)
        except (SequencingConflict, IntegrityError):
            log.info("another dispatcher is sequencing events; leaving it to that one")
            return total
        total += done
        if done == 0:
            return total


def deliver(engine: Engine, consumer: Consumer, *, batch: int = BATCH) -> int:
    """Hand ``consumer`` the events after its cursor, batch by batch; returns how many.
    A consumer that raises keeps its cursor (the exception propagates)."""
    handled = 0
    for _ in range(MAX_BATCHES):
        with engine.begin() as connection:
            after = cursor_position(connection, consumer=consumer.name)
            events = load_events(connection, after=after, limit=batch)
        if not events:
            break
        consumer.handle(events)
        with engine.begin() as connection:
            advance_cursor(connection, consumer=consumer.name, position=events[-1].position)
        handled += len(events)
    return handled


def dispatch_events(engine: Engine, consumers: Sequence[Consumer]) -> DispatchReport:
    """Sequence new events, then deliver them to each consumer; one consumer's failure is
    reported and never holds back the others."""
    sequenced = sequence_pending(engine)
    handled: dict[str, int] = {}
    failed: dict[str, str] = {}
    for consumer in consumers:
        try:
            handled[consumer.name] = deliver(engine, consumer)
        except Exception as exc:  # a failing consumer retries its batch next run
            log.exception("event consumer %s failed", consumer.name)
            failed[consumer.name] = f"{type(exc).__name__}: {exc}"[:500]
    return DispatchReport(sequenced, handled, failed)


def delete_old_events(engine: Engine, *, before: datetime) -> int:
    """Drop events older than ``before`` that every consumer has handled."""
    with engine.begin() as connection:
        return delete_dispatched(connection, before=before)
