"""RQ job entry points: ids and primitives in, one service call, a recorded run."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.symbols import symbol_by_id
from cryptolens.domain.enums import JobStatus
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.jobs import RUN_JOB, job
from cryptolens.jobs.context import job_engine, job_redis, job_scan_session, job_settings
from cryptolens.jobs.queues import LOCK_GRACE_SECONDS
from cryptolens.services.accounts.api_usage import RedisUsage, flush_usage
from cryptolens.services.accounts.user_sessions import purge_sessions
from cryptolens.services.market.candle_audit import run_db_health
from cryptolens.services.notifications import runs as notification_runs
from cryptolens.services.notifications.delivery import deliver_due
from cryptolens.services.ops.event_dispatch import delete_old_events, registered_consumers
from cryptolens.services.ops.event_dispatch import dispatch_events as dispatch_to
from cryptolens.services.ops.job_runs import RunRecord, delete_old_runs, recorded_run
from cryptolens.services.ops.mail import InlineCourier, Mailer
from cryptolens.services.ops.on_demand import fetch_now
from cryptolens.services.ops.outbox import (
    outbox_box,
    purge_outbox,
    smtp_from_settings,
    sweep_outbox,
)
from cryptolens.services.payments.lifecycle import Billing, remind_and_expire
from cryptolens.services.payments.providers import price_list
from cryptolens.services.quality.edge_report import compute_report
from cryptolens.services.quality.edge_store import cached_report, save_report
from cryptolens.services.quality.models import train_stored
from cryptolens.services.scanning.expiry import expire_zones
from cryptolens.services.scanning.scan import ScanReport, scan_cycle
from cryptolens.services.scanning.session import ScanSession
from cryptolens.services.views.stats import refresh_snapshot

log = logging.getLogger(__name__)

LOCK_PREFIX = "cryptolens:lock:"
SESSION_RETENTION = timedelta(days=1)


def _symbol_lock(settings: Settings, symbol_id: int) -> Any:
    redis = job_redis(settings)
    if redis is None:
        return None
    timeout = job("scan").timeout + LOCK_GRACE_SECONDS
    return redis.lock(f"{LOCK_PREFIX}scan:{symbol_id}", timeout=timeout, blocking=False)


def record_scan(run: RunRecord, report: ScanReport) -> None:
    run.counts = report.counts() | {
        f"seconds_{phase}": round(sec, 4) for phase, sec in report.phases.items()
    }
    problems = [f"{s.symbol}: {s.error}" for s in report.failed]
    if report.ingest is not None:
        problems += [f"{s.symbol}: fetch: {s.error}" for s in report.ingest.failed]
    if problems:
        run.status = JobStatus.FAILED
        run.error = "; ".join(problems)[:4000]


def scan_symbol_job(symbol_id: int) -> dict[str, Any]:
    """Fetch and scan one symbol; skipped if another job is scanning it right now."""
    settings = job_settings()
    engine = job_engine(settings)
    with Session(engine) as session:
        found = symbol_by_id(session, symbol_id=symbol_id)
        name, active = (found.symbol, found.active) if found else (str(symbol_id), False)
    with recorded_run(engine, "scan_symbol", target=name) as run:
        if not active:
            run.status = JobStatus.SKIPPED
            run.counts = {"reason": "unknown or inactive symbol"}
            return run.counts
        lock = _symbol_lock(settings, symbol_id)
        if lock is not None and not lock.acquire():
            run.status = JobStatus.SKIPPED
            run.counts = {"reason": "already being scanned"}
            return run.counts
        try:
            record_scan(run, job_scan_session(settings).cycle(symbols=[name]))
        finally:
            if lock is not None:
                lock.release()
        return run.counts


def fetch_symbol_job(symbol_id: int) -> dict[str, Any]:
    """Fetch the newly closed candles of one symbol (no scan)."""
    settings = job_settings()
    engine = job_engine(settings)
    with Session(engine) as session:
        found = symbol_by_id(session, symbol_id=symbol_id)
        name, active = (found.symbol, found.active) if found else (str(symbol_id), False)
    with recorded_run(engine, "fetch_symbol", target=name) as run:
        if not active:
            run.status = JobStatus.SKIPPED
            run.counts = {"reason": "unknown or inactive symbol"}
            return run.counts
        report = fetch_now(engine, settings, [name])
        run.counts = dict(report.counts())
        if report.failed:
            run.status = JobStatus.FAILED
            run.error = "; ".join(f"{s.symbol}: {s.error}" for s in report.failed)[:4000]
        return run.counts


def run_scan_all(
    engine: Engine, settings: Settings, *, session: ScanSession | None = None
) -> dict[str, Any]:
    """One recorded scan of every active symbol (through ``session``'s kept connection)."""
    with recorded_run(engine, "scan") as run:
        report = session.cycle() if session is not None else scan_cycle(engine, settings)
        record_scan(run, report)
        return run.counts


Work = Callable[[Engine, Settings], dict[str, Any]]


def recorded(work: Work, name: str) -> Work:
    """``work`` with its run recorded in job_runs under ``name``."""

    def run(engine: Engine, settings: Settings) -> dict[str, Any]:
        with recorded_run(engine, name) as record:
            record.counts = work(engine, settings)
            return record.counts

    return run


def expire_patterns(engine: Engine, settings: Settings) -> dict[str, Any]:
    return {"expired": expire_zones(engine, exchange=settings.exchange_id)}


def cleanup(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Drop old job records, handled events, ended sessions, and sent or failed emails past
    their retention."""
    days = settings.job_retention_days
    with Session(engine) as session, session.begin():
        # Ended sessions stay a day, then go: the account page lists only live ones.
        sessions = purge_sessions(session, now=utcnow(), keep=SESSION_RETENTION)
        purged = purge_outbox(
            session, older_than=timedelta(days=settings.outbox_retention_days), now=utcnow()
        )
    return {
        "job_runs_deleted": delete_old_runs(engine, older_than_days=days),
        "sessions_deleted": sessions,
        "emails_purged": purged,
        "events_deleted": delete_old_events(engine, before=utcnow() - timedelta(days=days)),
    }


def dispatch_events(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Hand new domain events to every registered consumer; a consumer that failed fails
    the run (it gets the same events again next time)."""
    consumers = registered_consumers(engine, settings, redis=job_redis(settings))
    report = dispatch_to(engine, consumers)
    if report.failed:
        raise RuntimeError("; ".join(f"{k}: {v}" for k, v in report.failed.items()))
    return report.counts()


def refresh_stats(engine: Engine, settings: Settings) -> dict[str, Any]:
    with Session(engine) as session, session.begin():
        stats = refresh_snapshot(session)
    return {
        "zone_groups": len(stats.zones),
        "trades": stats.overall.trades if stats.overall else 0,
    }


def db_health(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Check stored candles (no repair: `cryptolens db-health --fix` is an operator's call)."""
    return dict(run_db_health(engine, settings, fix=False).counts())


def deliver_outbox(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Emails due again: abandoned by a crashed sender, or failed and past their back-off."""
    with Session(engine) as session:
        swept = sweep_outbox(
            session, smtp=smtp_from_settings(settings), box=outbox_box(settings), now=utcnow()
        )
    return swept.counts()


def billing_emails(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Renewal reminders (7 days ahead, once per period end) and lapsed-plan emails."""
    billing = Billing(price_list(settings), Mailer(settings, InlineCourier(engine, settings)))
    with Session(engine) as session, session.begin():
        return remind_and_expire(session, billing=billing, now=utcnow()).counts()


def deliver_notifications(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Deliveries now due: past their delay or quiet hours, or retries past their wait."""
    return deliver_due(engine, settings, now=utcnow()).counts()


def send_signal_notifications_job(signal_id: int) -> dict[str, Any]:
    """Fan one new signal out to its subscribers and deliver what is due (safe to run twice:
    a delivery row exists once per signal, user and channel)."""
    settings = job_settings()
    return notification_runs.send_signal_notifications(
        job_engine(settings), settings, signal_id=signal_id
    )


def send_bulk_notifications_job(broadcast_id: int) -> dict[str, Any]:
    """Fan one admin broadcast out to its audience and deliver what is due."""
    settings = job_settings()
    return notification_runs.send_bulk_notifications(
        job_engine(settings), settings, broadcast_id=broadcast_id
    )


def flush_api_usage(engine: Engine, settings: Settings) -> dict[str, Any]:
    """API key requests counted in Redis since the last run, into the database. Without Redis
    each web process writes its own counts (``services.accounts.api_usage.MemoryUsage``)."""
    redis = job_redis(settings)
    if redis is None:
        return {"requests": 0, "reason": "no Redis: web processes write their own counts"}
    with Session(engine) as session:
        return {"requests": flush_usage(session, RedisUsage(redis))}


def train_quality_model(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Retrain the zone-quality model on every active symbol's stored candles; too few
    verdicts yet is a skip, not a failure (the scanner keeps the previous model, or none)."""
    try:
        stored = train_stored(engine, settings, now=utcnow())
    except ValidationError as exc:
        return {"trained": 0, "reason": str(exc)}
    return {"trained": 1, "version": stored.version, "zones": stored.card["data"]["zones"]}


def edge_report(engine: Engine, settings: Settings) -> dict[str, Any]:
    """The edge report (with its model section) computed and stored for the page, unless the
    stored one is still current: same history, code and parameters (``engine`` unused)."""
    stored = cached_report(settings)
    if stored is not None and stored.current and stored.report["params"]["model"]:
        return {"computed": 0, "reason": "the stored report is current"}
    save_report(settings, compute_report(settings, now=utcnow()))
    return {"computed": 1}


def work_for(name: str) -> Work:
    """The in-process work of the registered job ``name``: this module's function of that
    name (raises KeyError for an unknown job, ValueError for one with no such function)."""
    spec = job(name)
    work: Work | None = getattr(sys.modules[__name__], spec.name, None)
    if spec.function != RUN_JOB or work is None:
        raise ValueError(f"job {name} has no in-process work")
    return work


def run_job(name: str) -> dict[str, Any]:
    """RQ entry point for the scheduled work ``name``, recorded in job_runs."""
    settings = job_settings()
    return recorded(work_for(name), name)(job_engine(settings), settings)
