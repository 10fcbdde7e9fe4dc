"""Queue names, priorities and per-job timeouts."""

from __future__ import annotations

from enum import StrEnum


class QueueName(StrEnum):
    HIGH = "high"  # notifications
    DEFAULT = "default"  # scanning, one job per symbol
    LOW = "low"  # expiry, clean-up, stats


#: Workers listen in this order: a free worker always takes the most urgent job first.
PRIORITY = (QueueName.HIGH, QueueName.DEFAULT, QueueName.LOW)

#: Upper bounds on a job's run time (seconds); RQ kills a job that overruns.
TIMEOUTS: dict[str, int] = {
    "scan_symbol": 300,
    "expire_patterns": 300,
    "cleanup": 300,
    "refresh_stats": 300,
    "db_health": 1800,
    "deliver_outbox": 120,
}

#: A lock outlives its job's timeout a little, so a killed job's lock still expires.
LOCK_GRACE_SECONDS = 30
