"""The events outbox on a real database: every event takes effect once per consumer, in
order, across restarts, crashes and transactions that commit late."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.events import EventCursor, EventRow, record_events
from cryptolens.domain.events import Event, EventType, NewEvent
from cryptolens.services.notifications.consumer import SignalAlerts
from cryptolens.services.ops.event_dispatch import (
    EventLog,
    delete_old_events,
    dispatch_events,
    registered_consumers,
)
from tests.builders.db import clear_tables
from tests.builders.settings import make_settings


@pytest.fixture
def events_engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


class Ledger:
    """An idempotent consumer: its effect (a total per event) is keyed by event id, so an
    event handed over twice counts once; ``calls`` keeps what it was actually handed."""

    def __init__(self, name: str = "ledger", *, crash_after_handling: int = 0) -> None:
        self.name = name
        self.applied: dict[int, int] = {}
        self.calls: list[list[int]] = []
        self._crashes = crash_after_handling

    def handle(self, events: Sequence[Event]) -> None:
        self.calls.append([e.id for e in events])
        for event in events:
            self.applied.setdefault(event.id, int(event.payload["n"]))
        if self._crashes:  # the process dies before the dispatcher stores the cursor
            self._crashes -= 1
            raise RuntimeError("crashed after handling")


def _record(engine: Engine, *numbers: int) -> None:
    with engine.begin() as connection:
        record_events(
            connection, [NewEvent(EventType.CANDLE_CLOSED, None, {"n": n}) for n in numbers]
        )


def _ids(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.scalars(select(EventRow.id).order_by(EventRow.id)))


def test_each_consumer_gets_every_event_once_in_order_across_a_restart(
    events_engine: Engine,
) -> None:
    _record(events_engine, 1, 2, 3)
    first = Ledger()
    report = dispatch_events(events_engine, [first])
    assert report.counts() == {"sequenced": 3, "handled_ledger": 3}
    # A new process: a fresh consumer object with an empty memory, a fresh engine.
    restarted_engine = create_engine(events_engine.url)
    _record(restarted_engine, 4)
    second = Ledger()
    dispatch_events(restarted_engine, [second])
    dispatch_events(restarted_engine, [second])
    restarted_engine.dispose()
    ids = _ids(events_engine)
    assert first.calls == [ids[:3]]
    assert second.calls == [ids[3:]]


def test_a_crash_between_handling_and_the_cursor_update_takes_effect_once(
    events_engine: Engine,
) -> None:
    _record(events_engine, 10, 20)
    ledger = Ledger(crash_after_handling=1)
    crashed = dispatch_events(events_engine, [ledger])
    assert crashed.failed == {"ledger": "RuntimeError: crashed after handling"}
    dispatch_events(events_engine, [ledger])
    dispatch_events(events_engine, [ledger])
    ids = _ids(events_engine)
    assert ledger.calls == [ids, ids]  # handed over again: at least once
    assert sum(ledger.applied.values()) == 30  # but it took effect once


def test_a_failing_consumer_neither_loses_events_nor_holds_back_the_others(
    events_engine: Engine,
) -> None:
    _record(events_engine, 1)
    down, up = Ledger("down", crash_after_handling=1), Ledger("up")
    dispatch_events(events_engine, [down, up])
    _record(events_engine, 2)
    dispatch_events(events_engine, [down, up])
    ids = _ids(events_engine)
    assert up.calls == [ids[:1], ids[1:]]
    assert down.calls == [ids[:1], ids]
    with Session(events_engine) as session:
        rows = session.execute(select(EventCursor.consumer, EventCursor.last_position)).all()
    cursors = {row.consumer: row.last_position for row in rows}
    assert cursors == {"down": 2, "up": 2}


def test_events_come_in_batches_in_the_order_they_were_recorded(events_engine: Engine) -> None:
    _record(events_engine, *range(1200))
    ledger = Ledger()
    dispatch_events(events_engine, [ledger])
    handed = [event_id for batch in ledger.calls for event_id in batch]
    assert [len(batch) for batch in ledger.calls] == [500, 500, 200]
    assert handed == _ids(events_engine)


def test_an_event_committed_late_with_a_lower_id_is_not_skipped(events_engine: Engine) -> None:
    if events_engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writer at a time: ids are always in commit order")
    ledger = Ledger()
    with events_engine.connect() as slow:
        transaction = slow.begin()
        record_events(slow, [NewEvent(EventType.ZONE_FORMED, None, {"n": 1})])  # lower id
        _record(events_engine, 2)  # a higher id, committed first
        dispatch_events(events_engine, [ledger])
        transaction.commit()
    dispatch_events(events_engine, [ledger])
    low, high = _ids(events_engine)
    assert ledger.calls == [[high], [low]]
    assert ledger.applied == {high: 2, low: 1}


def test_an_event_rolled_back_with_its_transaction_is_never_dispatched(
    events_engine: Engine,
) -> None:
    def failing_change() -> None:
        with events_engine.begin() as connection:
            record_events(connection, [NewEvent(EventType.SIGNAL_CREATED, None, {"n": 1})])
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    _record(events_engine, 2)
    ledger = Ledger()
    dispatch_events(events_engine, [ledger])
    assert list(ledger.applied.values()) == [2]


def test_the_registered_consumers_include_the_event_log_and_signal_alerts(
    events_engine: Engine,
) -> None:
    _record(events_engine, 1)
    submitted: list[int] = []
    consumers = registered_consumers(events_engine, make_settings(), submit_signal=submitted.append)
    assert {type(c) for c in consumers} == {EventLog, SignalAlerts}
    report = dispatch_events(events_engine, consumers)
    assert report.handled["log"] == 1
    assert report.handled["signal_alerts"] == 1
    assert submitted == []  # a closed candle is no signal
    with Session(events_engine) as session:
        assert session.scalar(select(func.count()).select_from(EventCursor)) == len(consumers)


def test_clean_up_drops_only_old_events_every_consumer_has_handled(
    events_engine: Engine,
) -> None:
    _record(events_engine, 1, 2)
    fast, slow = Ledger("fast"), Ledger("slow", crash_after_handling=1)
    dispatch_events(events_engine, [fast, slow])  # slow handled nothing for good
    assert delete_old_events(events_engine, before=utcnow() + timedelta(days=1)) == 0
    dispatch_events(events_engine, [fast, slow])
    assert delete_old_events(events_engine, before=utcnow() - timedelta(days=1)) == 0  # recent
    assert delete_old_events(events_engine, before=utcnow() + timedelta(days=1)) == 2
    _record(events_engine, 3)
    dispatch_events(events_engine, [fast, slow])
    assert list(fast.applied.values()) == [1, 2, 3]
