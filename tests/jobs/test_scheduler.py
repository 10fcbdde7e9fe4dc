"""The scheduler counts what a fired job raised in error tracking, and says nothing at INFO
about a cycle that did nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.db.errors import ErrorGroup
from cryptolens.jobs.schedule import Entry
from cryptolens.jobs.scheduler import Scheduler, idle, scheduler_errors
from tests.builders.db import clear_tables
from tests.builders.settings import make_settings

MIDNIGHT = 1_767_225_600.0  # 2026-01-01T00:00:00Z


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
