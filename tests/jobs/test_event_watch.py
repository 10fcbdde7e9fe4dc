"""The scheduler's event watch: new events are dispatched within a tick, not at the next
minute, and a backlog that a queued job has not reached yet is not enqueued every second."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from cryptolens.db.events import record_events
from cryptolens.domain.events import EventType, NewEvent
from cryptolens.jobs.schedule import Entry
from cryptolens.jobs.scheduler import EventWatch
from cryptolens.services.ops.event_dispatch import sequence_pending
from tests.builders.db import clear_tables


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(engine: Engine, n: int = 1) -> None:
    with engine.begin() as connection:
        record_events(connection, [NewEvent(EventType.CANDLE_CLOSED, None, {})] * n)


def test_new_events_fire_dispatch_once_and_a_quiet_table_fires_nothing(engine: Engine) -> None:
    fired: list[str] = []
    clock = Clock()
    watch = EventWatch(engine, lambda entry, _slot: fired.append(entry.name), clock=clock)

    assert watch() is False  # nothing recorded
    _record(engine)
    assert watch() is True
    assert fired == ["dispatch_events"]
    clock.now += 1
    assert watch() is False  # same backlog, fired a second ago: the queued job will take it
    _record(engine)
    assert watch() is True  # something new arrived
    assert fired == ["dispatch_events", "dispatch_events"]


def test_a_backlog_nobody_took_fires_again_after_the_refire_interval(engine: Engine) -> None:
    fired: list[int] = []
    clock = Clock()
    watch = EventWatch(engine, lambda _e, slot: fired.append(slot), refire_seconds=15, clock=clock)
    _record(engine, 3)
    assert watch()
    clock.now += 14
    assert not watch()
    clock.now += 2
    assert watch()
    sequence_pending(engine)  # dispatched: nothing waits any more
    clock.now += 60
    assert not watch()
    assert len(fired) == 2


def test_a_failing_dispatch_is_logged_and_the_watch_goes_on(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_entry: Entry, _slot: int) -> None:
        raise RuntimeError("redis went away")

    watch = EventWatch(engine, broken)
    _record(engine)
    assert watch() is False
    assert "event-triggered dispatch failed" in caplog.text
