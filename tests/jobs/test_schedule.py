"""The schedule fires each entry once per slot, rare entries only at their slot."""

from __future__ import annotations

from cryptolens.jobs.schedule import DAY, Entry, schedule
from cryptolens.jobs.scheduler import Scheduler

MIDNIGHT = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def recording(entries: tuple[Entry, ...]) -> tuple[Scheduler, list[tuple[str, int]]]:
    fired: list[tuple[str, int]] = []
    return Scheduler(entries, lambda e, slot: fired.append((e.name, slot))), fired


def test_an_entry_fires_once_per_slot_however_often_the_scheduler_ticks() -> None:
    scheduler, fired = recording((Entry("scan", 60),))
    for second in range(0, 300, 7):
        scheduler.tick(MIDNIGHT + second)
    assert [name for name, _ in fired] == ["scan"] * 5
    assert len({slot for _, slot in fired}) == 5


def test_a_daily_entry_waits_for_its_hour_and_frequent_ones_start_at_once() -> None:
    scheduler, fired = recording((Entry("scan", 60), Entry("db_health", DAY, offset=3 * 3600)))
    scheduler.tick(MIDNIGHT + 3600)  # 01:00: start-up
    assert [name for name, _ in fired] == ["scan"]
    scheduler.tick(MIDNIGHT + 2 * 3600 + 59 * 60)  # 02:59
    assert "db_health" not in [name for name, _ in fired]
    scheduler.tick(MIDNIGHT + 3 * 3600)  # 03:00
    assert [name for name, _ in fired].count("db_health") == 1
    scheduler.tick(MIDNIGHT + 5 * 3600)
    assert [name for name, _ in fired].count("db_health") == 1


def test_a_failing_job_does_not_stop_the_others() -> None:
    ran: list[str] = []

    def dispatch(entry: Entry, _slot: int) -> None:
        if entry.name == "scan":
            raise RuntimeError("exchange down")
        ran.append(entry.name)

    scheduler = Scheduler((Entry("scan", 60), Entry("refresh_stats", 300)), dispatch)
    assert scheduler.tick(MIDNIGHT) == ["scan", "refresh_stats"]
    assert ran == ["refresh_stats"]


def test_the_default_schedule_matches_the_documented_crontab() -> None:
    every = {e.name: (e.every, e.offset) for e in schedule()}
    assert every["scan"] == (60, 0)
    assert every["refresh_stats"] == (300, 0)
    assert every["expire_patterns"] == (3600, 0)
    assert every["db_health"] == (DAY, 3 * 3600)
