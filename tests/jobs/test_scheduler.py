"""The scheduler reads the administrators' runtime settings (the pause flag stops every entry
firing, a new scan interval rebuilds the schedule), counts what a fired job raised in error
tracking, and says nothing at INFO about a cycle that did nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.errors import ErrorGroup
from cryptolens.jobs.schedule import Entry, schedule
from cryptolens.jobs.scheduler import RuntimeWatch, Scheduler, idle, scheduler_errors
from cryptolens.services.ops.runtime_settings import (
    RuntimeSettings,
    load_runtime_from,
    save_runtime,
    set_paused,
)
from tests.builders.db import clear_tables
from tests.builders.settings import make_settings

MIDNIGHT = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _scan_every(scheduler: Scheduler) -> int:
    return next(e.every for e in scheduler.entries if e.name == "scan")


def test_a_paused_scheduler_fires_nothing_and_resumes_where_the_slots_are() -> None:
    fired: list[str] = []
    scheduler = Scheduler((Entry("scan", 60),), lambda e, _slot: fired.append(e.name))
    scheduler.paused = True
    for second in range(0, 300, 7):
        assert scheduler.tick(MIDNIGHT + second) == []
    scheduler.paused = False
    scheduler.tick(MIDNIGHT + 300)
    assert fired == ["scan"]


def test_the_watch_applies_the_stored_pause_flag_and_scan_interval(
    migrated_engine: Engine,
) -> None:
    scheduler = Scheduler(schedule(60), lambda _e, _s: None)
    clock = Clock()
    watch = RuntimeWatch(
        scheduler,
        lambda: load_runtime_from(migrated_engine),
        default_interval=60,
        every_seconds=5,
        clock=clock,
    )
    try:
        assert watch() is False
        assert _scan_every(scheduler) == 60
        with Session(migrated_engine) as s, s.begin():
            save_runtime(s, RuntimeSettings(scan_interval_seconds=300), now=utcnow())
            set_paused(s, paused=True, now=utcnow())
        clock.now = 2  # read at most every 5 s
        assert watch() is False
        clock.now = 6
        assert watch() is True
        assert scheduler.paused
        assert _scan_every(scheduler) == 300
        assert scheduler.tick(MIDNIGHT) == []
        with Session(migrated_engine) as s, s.begin():
            save_runtime(s, RuntimeSettings(), now=utcnow())
        clock.now = 12
        assert watch() is False
        assert _scan_every(scheduler) == 60
        assert "scan" in scheduler.tick(MIDNIGHT)
    finally:
        with Session(migrated_engine) as s, s.begin():
            save_runtime(s, RuntimeSettings(), now=utcnow())


def test_a_failed_read_keeps_the_current_state() -> None:
    scheduler = Scheduler(schedule(60), lambda _e, _s: None)
    scheduler.paused = True

    def broken() -> RuntimeSettings:
        raise OSError("database down")

    assert RuntimeWatch(scheduler, broken, default_interval=60)() is True
    assert scheduler.paused


def test_a_failing_fired_job_is_tracked_as_a_scheduler_error(
    migrated_engine: Engine, tmp_path: Path
) -> None:
    clear_tables(migrated_engine)
    settings = make_settings(
        database_url=migrated_engine.url.render_as_string(hide_password=False),
        instance_dir=tmp_path,
    )

    def dispatch(_entry: Entry, _slot: int) -> None:
        raise ConnectionError("redis went away")

    on_error = scheduler_errors(migrated_engine, settings)
    scheduler = Scheduler((Entry("scan", 60),), dispatch, on_error=on_error)
    assert scheduler.tick(MIDNIGHT) == ["scan"]
    with Session(migrated_engine) as session:
        [group] = session.scalars(select(ErrorGroup)).all()
    clear_tables(migrated_engine)
    assert (group.source, group.exc_type, group.count) == ("scheduler", "ConnectionError", 1)
    assert group.context == {"job": "scan"}


def test_an_idle_cycle_is_one_whose_counts_are_all_zero_but_its_size() -> None:
    quiet = {"symbols": 3, "candles": 0, "signals_new": 0, "skipped": 1, "seconds_load": 0.2}
    assert idle(quiet)
    assert not idle(quiet | {"candles": 5})
    assert not idle(quiet | {"failed": 1})
    assert not idle(None)
