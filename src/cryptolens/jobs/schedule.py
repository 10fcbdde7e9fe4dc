"""The schedule, cron-like: each entry fires once per slot (a wall-clock period)."""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86_400


@dataclass(frozen=True, slots=True)
class Entry:
    """``name`` fires once in every ``every``-second slot, slots starting ``offset`` seconds
    after midnight UTC (e.g. every=86400, offset=10800: daily at 03:00)."""

    name: str
    every: int
    offset: int = 0

    def slot(self, now: float) -> int:
        """Index of the slot ``now`` falls in; an entry is due when this changes."""
        return int((now - self.offset) // self.every)


def default_schedule(scan_every: int = 60) -> tuple[Entry, ...]:
    """Scan and retry due emails every minute, stats every 5 minutes, expiry hourly,
    clean-up and database health daily (like the crontab in deploy/crontab.example)."""
    return (
        Entry("scan", scan_every),
        Entry("deliver_outbox", 60),
        Entry("refresh_stats", 300),
        Entry("expire_patterns", 3600),
        Entry("cleanup", DAY, offset=2 * 3600 + 30 * 60),
        Entry("db_health", DAY, offset=3 * 3600),
    )
