"""The job registry: every background job's name, entry point, queue, timeout and schedule in
one table. RQ enqueueing, the in-process runner, the scheduler, ``cryptolens jobs`` and the
admin jobs page all read it, so a job is added or retimed in exactly one place.

It lives in the domain (plain data, no imports of the job code) because the web and the job
entry points may not import each other; functions are named by dotted path, which is also how
RQ names them in Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MINUTE = 60
HOUR = 3600
DAY = 86_400


class QueueName(StrEnum):
    HIGH = "high"  # notifications, event dispatch: short jobs that should not wait
    DEFAULT = "default"  # scanning, one job per symbol
    LOW = "low"  # expiry, clean-up, stats


#: Workers listen in this order: a free worker always takes the most urgent job first.
PRIORITY = (QueueName.HIGH, QueueName.DEFAULT, QueueName.LOW)


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


RUN_JOB = "cryptolens.jobs.tasks.run_job"


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One background job. ``function`` is the RQ entry point's dotted path: ``run_job``
    takes the job's name and runs ``cryptolens.jobs.tasks.<name>``, which the in-process runner
    calls directly. ``every`` is None for jobs only enqueued on demand."""

    name: str
    function: str
    queue: QueueName
    timeout: int
    every: int | None = None
    offset: int = 0
    summary: str = ""
    #: RQ gets one job per watched symbol (``function(symbol_id)``) instead of one job.
    per_symbol: bool = False

    @property
    def scheduled(self) -> bool:
        return self.every is not None

    def entry(self, every: int | None = None) -> Entry:
        """This job's schedule entry (``every`` overrides the period, e.g. the scan interval)."""
        period = every or self.every
        if period is None:
            raise ValueError(f"job {self.name} is not scheduled")
        return Entry(self.name, period, self.offset)


def _scheduled(
    name: str, queue: QueueName, timeout: int, every: int, *, offset: int = 0, summary: str
) -> JobSpec:
    return JobSpec(name, RUN_JOB, queue, timeout, every, offset, summary)


#: The high queue's jobs finish within a minute, as the architecture promises notifications.
HIGH_TIMEOUT = 60

JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "scan",
        "cryptolens.jobs.tasks.scan_symbol_job",
        QueueName.DEFAULT,
        300,
        MINUTE,
        summary="fetch closed candles, detect and advance zones, signals",
        per_symbol=True,
    ),
    JobSpec(
        "fetch",
        "cryptolens.jobs.tasks.fetch_symbol_job",
        QueueName.DEFAULT,
        300,
        summary="fetch newly closed candles of one symbol (enqueued by POST /api/v1/fetch)",
    ),
    _scheduled(
        "dispatch_events",
        QueueName.HIGH,
        HIGH_TIMEOUT,
        MINUTE,
        summary="hand new domain events to their consumers",
    ),
    _scheduled("deliver_outbox", QueueName.HIGH, HIGH_TIMEOUT, MINUTE, summary="retry due emails"),
    _scheduled(
        "deliver_notifications",
        QueueName.HIGH,
        HIGH_TIMEOUT,
        MINUTE,
        summary="send alerts now due (delayed alerts, quiet hours over, retries)",
    ),
    _scheduled(
        "flush_api_usage",
        QueueName.LOW,
        HIGH_TIMEOUT,
        MINUTE,
        summary="write API key usage counted in Redis (requests per day, last use)",
    ),
    _scheduled("refresh_stats", QueueName.LOW, 300, 5 * MINUTE, summary="stats page figures"),
    _scheduled(
        "expire_patterns", QueueName.LOW, 300, HOUR, summary="expire zones no scan advances"
    ),
    _scheduled(
        "cleanup",
        QueueName.LOW,
        300,
        DAY,
        offset=2 * HOUR + 30 * MINUTE,
        summary="delete old job records and dispatched events",
    ),
    _scheduled(
        "billing_emails",
        QueueName.LOW,
        300,
        DAY,
        offset=9 * HOUR,
        summary="renewal reminders 7 days before a paid period ends; an email once one lapsed",
    ),
    _scheduled(
        "train_quality_model",
        QueueName.LOW,
        1800,
        7 * DAY,
        offset=4 * HOUR,
        summary="retrain the zone-quality model from stored candles (weekly)",
    ),
    _scheduled(
        "edge_report",
        QueueName.LOW,
        1800,
        DAY,
        offset=5 * HOUR,
        summary="recompute the edge report when its data, code or parameters changed",
    ),
    _scheduled(
        "db_health",
        QueueName.LOW,
        1800,
        DAY,
        offset=3 * HOUR,
        summary="check stored candles (no repair)",
    ),
    JobSpec(
        "send_email",
        "cryptolens.jobs.email.send_email_job",
        QueueName.HIGH,
        HIGH_TIMEOUT,
        summary="deliver one queued email (enqueued by the page that queued it)",
    ),
    JobSpec(
        "send_signal_notifications",
        "cryptolens.jobs.tasks.send_signal_notifications_job",
        QueueName.HIGH,
        HIGH_TIMEOUT,
        summary="fan a new signal out to its subscribers' channels and send (per signal event)",
    ),
    JobSpec(
        "send_bulk_notifications",
        "cryptolens.jobs.tasks.send_bulk_notifications_job",
        QueueName.HIGH,
        HIGH_TIMEOUT,
        summary="fan an admin broadcast out to its audience and send",
    ),
    JobSpec(
        "refresh_portfolio_analytics",
        "cryptolens.jobs.portfolio.refresh_portfolio_analytics_job",
        QueueName.LOW,
        300,
        summary="recompute a portfolio's analytics snapshot after a change to its trades",
    ),
    JobSpec(
        "run_backtest",
        "cryptolens.jobs.backtests.run_backtest_job",
        QueueName.LOW,
        30 * MINUTE,
        summary="run a stored backtest (enqueued by the backtests page and the API)",
    ),
    JobSpec(
        "password_reset",
        "cryptolens.jobs.email.password_reset_job",
        QueueName.HIGH,
        HIGH_TIMEOUT,
        summary="look an address up and email it a reset link (enqueued by /auth/forgot)",
    ),
)

BY_NAME: dict[str, JobSpec] = {spec.name: spec for spec in JOBS}


def job(name: str) -> JobSpec:
    """The registered job ``name``; raises KeyError for an unknown one."""
    return BY_NAME[name]


def schedule(scan_every: int = MINUTE) -> tuple[Entry, ...]:
    """The scheduled jobs as entries, in registry order; the scan every ``scan_every`` s."""
    return tuple(
        spec.entry(scan_every if spec.name == "scan" else None) for spec in JOBS if spec.scheduled
    )
