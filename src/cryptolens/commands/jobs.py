"""Scanning and background-work commands: scan, signals, worker, scheduler, jobs."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from functools import partial
from types import FrameType

import click
from flask import current_app

from cryptolens.db.symbols import require_symbol
from cryptolens.domain.enums import JobStatus, SignalStatus
from cryptolens.domain.errors import CryptoLensError, ValidationError
from cryptolens.domain.jobs import JOBS, PRIORITY, job, schedule
from cryptolens.domain.symbols import parse_symbol
from cryptolens.domain.timeframes import ms_to_datetime
from cryptolens.extensions import db
from cryptolens.jobs.scheduler import (
    Dispatch,
    EventWatch,
    RedisClaims,
    RuntimeWatch,
    Scheduler,
    enqueuer,
    in_process,
    run_forever,
    scheduler_errors,
)
from cryptolens.runtime import app_redis, app_settings
from cryptolens.services.ops.job_runs import recent_runs
from cryptolens.services.ops.runtime_settings import load_runtime_from
from cryptolens.services.scanning.scan import ScanReport
from cryptolens.services.scanning.session import ScanSession
from cryptolens.services.views.listing import PageRequest
from cryptolens.services.views.signal_list import SignalFilters, list_signals


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _describe(report: ScanReport) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in report.counts().items())
    phases = ", ".join(f"{k} {v:.3f}s" for k, v in sorted(report.phases.items()))
    return f"{counts} ({phases})"


@click.command("scan")
@click.option("--symbol", "symbol", help="Only this symbol (e.g. BTC/USDT).")
@click.option("--once", is_flag=True, help="Run one cycle and exit.")
@click.option("--interval", type=float, help="Seconds between cycles [SCAN_INTERVAL_SECONDS].")
def scan_command(symbol: str | None, once: bool, interval: float | None) -> None:
    """Fetch newly closed candles, detect zones, advance them and evaluate signals."""
    settings = app_settings(current_app)
    symbols = None
    if symbol is not None:
        try:
            symbols = [
                require_symbol(db.session(), exchange=settings.exchange_id, symbol=symbol).symbol
            ]
        except CryptoLensError as exc:
            raise click.ClickException(str(exc)) from None
    period = interval if interval is not None else settings.scan_interval_seconds
    stop = threading.Event() if once else _stop_on_signals()
    scans = ScanSession(db.engine, settings)
    try:
        while True:
            started = time.monotonic()
            report = scans.cycle(symbols=symbols)
            click.echo(f"scan: {_describe(report)}")
            for failed in report.failed:
                click.echo(f"  {failed.symbol}: {failed.error}", err=True)
            if once or stop.wait(max(0.0, period - (time.monotonic() - started))):
                break
    finally:
        scans.close()
    if once and report.failed:
        raise SystemExit(1)


@click.group("signals")
def signals_group() -> None:
    """Signals found by the scanner."""


@signals_group.command("list")
@click.option("--symbol", help="Only this symbol.")
@click.option(
    "--status", type=click.Choice([s.value for s in SignalStatus]), help="Only this status."
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def signals_list(symbol: str | None, status: str | None, limit: int) -> None:
    """The latest signals, newest first."""
    try:
        wanted = parse_symbol(symbol) if symbol else None
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint="--symbol") from None
    filters = SignalFilters(symbol=wanted, status=SignalStatus(status) if status else None)
    rows = list_signals(
        db.session(),
        exchange=app_settings(current_app).exchange_id,
        filters=filters,
        page=PageRequest(page=1, per_page=limit),
    ).rows
    if not rows:
        click.echo("no signals")
        return
    click.echo(
        f"{'id':>6}  {'created (UTC)':16}  {'symbol':10} {'dir':7} {'tfs':12} "
        f"{'entry':>12} {'stop':>12} {'target 3':>12}  {'status':9} {'outcome':8} {'R':>6}"
    )
    for s in rows:
        created = ms_to_datetime(s.created_at).strftime("%Y-%m-%d %H:%M")
        r = "" if s.r_multiple is None else f"{s.r_multiple:+.2f}"
        click.echo(
            f"{s.id:>6}  {created:16}  {s.symbol:10} {s.direction:7} {s.timeframes:12} "
            f"{s.entry:>12.6g} {s.stop:>12.6g} {s.target_3:>12.6g}  {s.status:9} "
            f"{s.outcome or '':8} {r:>6}"
        )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option(
    "--queue",
    "queue_names",
    multiple=True,
    type=click.Choice([name.value for name in PRIORITY]),
    help="A queue to work (repeatable, in priority order); default: high, default, low.",
)
@click.option(
    "--no-fork",
    is_flag=True,
    help="Run jobs in this process, keeping connections and loaded markets between them "
    "(for many small scan jobs; leave heavy backtests to a forking worker).",
)
def worker_command(burst: bool, queue_names: tuple[str, ...], no_fork: bool) -> None:
    """Run an RQ worker on the high, default and low queues (needs REDIS_URL)."""
    from cryptolens.jobs.worker import run_worker  # RQ loads only for this command

    redis = app_redis(current_app)
    if redis is None:
        raise click.ClickException(
            "the worker needs REDIS_URL; without Redis run `cryptolens scheduler`, which "
            "runs every job in its own process"
        )
    settings = app_settings(current_app)
    run_worker(
        redis,
        burst=burst,
        metrics_dir=settings.prometheus_multiproc_dir,
        settings=settings,
        queue_names=queue_names,
        fork=not no_fork,
    )


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Fire what is due now, then exit.")
def scheduler_command(once: bool) -> None:
    """Fire scheduled jobs: enqueue them (with REDIS_URL; one scheduler leads) or run them
    in this process (without Redis)."""
    settings = app_settings(current_app)
    engine = db.engine
    entries = schedule(settings.scan_interval_seconds)
    on_error = scheduler_errors(engine, settings)
    local = None
    redis = app_redis(current_app)
    if redis is not None:
        claims = RedisClaims(redis)
        dispatch: Dispatch = enqueuer(engine, settings, redis)
        scheduler = Scheduler(entries, dispatch, claim=claims, on_error=on_error)
        mode = "enqueuing to Redis"
    else:
        claims = None
        dispatch = local = in_process(engine, settings)
        scheduler = Scheduler(entries, local, on_error=on_error)
        mode = "running jobs in this process"
    watch = EventWatch(engine, dispatch)
    runtime = RuntimeWatch(
        scheduler,
        partial(load_runtime_from, engine),
        default_interval=settings.scan_interval_seconds,
    )
    paused = runtime()  # the administrators' scan interval and pause flag
    entries = scheduler.entries
    click.echo(
        f"scheduler: {mode}{' (paused)' if paused else ''}; "
        + ", ".join(f"{e.name} every {e.every}s" for e in entries)
    )
    try:
        if once:
            scheduler.tick(time.time())
        else:
            run_forever(scheduler, _stop_on_signals(), on_tick=_ticker(claims, watch, runtime))
    finally:
        if claims is not None:
            claims.resign()
        if local is not None:
            local.close()


def _ticker(
    claims: RedisClaims | None, watch: EventWatch, runtime: RuntimeWatch
) -> Callable[[], object]:
    """Each tick: apply the runtime settings (paused: nothing more), keep (or take) the
    leader lease; the leader, or the only scheduler, dispatches new events at once."""

    def tick() -> object:
        if runtime():
            return False
        if claims is None or claims.lead():
            return watch()
        return False

    return tick


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: run one now, or see recent runs."""


@jobs_group.command("run")
@click.argument("name", type=click.Choice([e.name for e in schedule()]))
def jobs_run(name: str) -> None:
    """Run the scheduled job NAME once, in this process, recorded in job_runs."""
    settings = app_settings(current_app)
    entry = job(name).entry()
    runner = in_process(db.engine, settings)
    try:
        runner(entry, 0)
    finally:
        runner.close()
    [latest] = recent_runs(db.engine, name=name, limit=1)
    click.echo(f"{name}: {latest.status} {latest.counts or ''}")
    if latest.status == JobStatus.FAILED:
        click.echo(f"  {latest.error}", err=True)
        raise SystemExit(1)


@jobs_group.command("registered")
def jobs_registered() -> None:
    """Every registered job: queue, timeout and schedule (the scan's period is the default)."""
    for spec in JOBS:
        when = "on demand" if spec.every is None else f"every {spec.every}s"
        if spec.offset:
            when += f" +{spec.offset}s"
        click.echo(
            f"{spec.name:16} {spec.queue.value:8} {spec.timeout:>5}s  {when:18} {spec.summary}"
        )


@jobs_group.command("list")
@click.option("--name", help="Only runs of this job (scan_symbol: a scan job of one symbol).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def jobs_list(name: str | None, limit: int) -> None:
    """The latest recorded runs, newest first."""
    for run in recent_runs(db.engine, name=name, limit=limit):
        target = f" {run.target}" if run.target else ""
        click.echo(f"{run.id:>7}  {run.name}{target}: {run.status} {run.counts or ''}")
        if run.error:
            click.echo(f"         {run.error}")
