"""Jobs end to end: the real CCXT client against the simulator, a real database and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cryptolens.db.models import JobRun, Pattern, Signal
from cryptolens.db.symbols import ensure_symbol
from cryptolens.domain.jobs import JOBS, PRIORITY, schedule
from cryptolens.jobs import tasks
from cryptolens.jobs.context import close_scan_sessions, job_settings
from cryptolens.jobs.schedule import Entry
from cryptolens.jobs.scheduler import Scheduler, enqueuer, in_process
from cryptolens.jobs.worker import KeptProcessWorker
from cryptolens.market.simulator import SimulatorServer
from cryptolens.services.scanning.session import ScanSession
from tests.builders.db import clear_tables
from tests.builders.market import MINUTE, T0, exact_dataset
from tests.builders.settings import TEST_SECRET

DAY = 86_400_000


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    data = exact_dataset(4 * 24 * 60, seed=5)
    server = SimulatorServer({"BTC/USDT": data}, speed=0.0, start_at_ms=T0 + 2 * DAY).start()
    yield server
    server.stop()


@pytest.fixture
def job_env(
    monkeypatch: pytest.MonkeyPatch,
    sim: SimulatorServer,
    database_url: str,
    migrated_engine: Engine,
) -> Iterator[Engine]:
    """The environment a worker process would have, pointing at the test services."""
    for name, value in {
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "EXCHANGE_API_URL": sim.base_url,
        "SYMBOLS": "BTC/USDT",
        "BASE_TIMEFRAME": "1m",
        "TIMEFRAMES": "1m,5m,15m,1h",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    clear_tables(migrated_engine)
    with Session(migrated_engine) as session, session.begin():
        ensure_symbol(session, exchange="binance", symbol="BTC/USDT")
    yield migrated_engine
    close_scan_sessions()
    clear_tables(migrated_engine)


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _runs(engine: Engine) -> list[tuple[str, str, dict[str, Any] | None]]:
    with Session(engine) as session:
        rows = session.execute(
            select(JobRun.name, JobRun.status, JobRun.counts).order_by(JobRun.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_in_process_scheduler_scans_on_schedule_and_records_each_run(
    job_env: Engine, sim: SimulatorServer
) -> None:
    settings = job_settings()
    local = in_process(job_env, settings)
    scheduler = Scheduler((Entry("scan", 60),), local)
    scheduler.tick(1_000_000.0)
    first_patterns = _count(job_env, Pattern)
    assert first_patterns > 0
    sim.clock.advance(30 * MINUTE)
    scheduler.tick(1_000_030.0)  # same slot: nothing runs
    scheduler.tick(1_000_060.0)
    runs = _runs(job_env)
    assert [(name, status) for name, status, _ in runs] == [
        ("scan", "succeeded"),
        ("scan", "succeeded"),
    ]
    assert runs[0][2] is not None
    assert runs[0][2]["candles"] > 0
    assert runs[1][2] is not None
    assert runs[1][2]["candles"] == 30
    assert _count(job_env, Pattern) >= first_patterns
    # Both cycles went through one kept connection: markets were loaded once.
    assert sim.stats().by_endpoint["exchangeInfo"] == 1
    local.close()


def test_a_scan_job_run_twice_changes_nothing_the_second_time(job_env: Engine) -> None:
    with Session(job_env) as session:
        symbol_id = ensure_symbol(session, exchange="binance", symbol="BTC/USDT").id
    tasks.scan_symbol_job(symbol_id)
    counts = (_count(job_env, Pattern), _count(job_env, Signal))
    second = tasks.scan_symbol_job(symbol_id)
    assert second["candles"] == 0
    assert (_count(job_env, Pattern), _count(job_env, Signal)) == counts


def test_rq_workers_run_scan_jobs_and_skip_a_symbol_already_being_scanned(
    job_env: Engine, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    redis: Redis[bytes] = Redis.from_url(redis_url)
    queue = Queue("default", connection=redis)
    queue.empty()
    with Session(job_env) as session:
        symbol_id = ensure_symbol(session, exchange="binance", symbol="BTC/USDT").id
    lock = redis.lock(f"{tasks.LOCK_PREFIX}scan:{symbol_id}", timeout=60)
    assert lock.acquire(blocking=False)
    try:
        queue.enqueue(tasks.scan_symbol_job, symbol_id, job_timeout=120)
        SimpleWorker([queue], connection=redis).work(burst=True)
    finally:
        lock.release()
    queue.enqueue(tasks.scan_symbol_job, symbol_id, job_timeout=120)
    queue.enqueue(tasks.scan_symbol_job, symbol_id, job_timeout=120)
    SimpleWorker([queue], connection=redis).work(burst=True)
    runs = _runs(job_env)
    assert [(n, s) for n, s, _ in runs] == [
        ("scan_symbol", "skipped"),
        ("scan_symbol", "succeeded"),
        ("scan_symbol", "succeeded"),
    ]
    assert runs[0][2] == {"reason": "already being scanned"}
    assert runs[1][2] is not None
    assert runs[1][2]["zones_new"] > 0
    assert runs[2][2] is not None
    assert runs[2][2]["zones_new"] == 0
    redis.close()


def test_a_kept_worker_process_loads_the_markets_once_for_all_its_scan_jobs(
    job_env: Engine, sim: SimulatorServer, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cryptolens worker --no-fork``: per-symbol scan jobs share one exchange client (one
    ``exchangeInfo``), where each used to build its own and load the markets again."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    redis: Redis[bytes] = Redis.from_url(redis_url)
    queue = Queue("default", connection=redis)
    queue.empty()
    with Session(job_env) as session:
        btc = ensure_symbol(session, exchange="binance", symbol="BTC/USDT").id
    for _ in range(3):
        queue.enqueue(tasks.scan_symbol_job, btc, job_timeout=120)
    KeptProcessWorker([queue], connection=redis).work(burst=True)
    runs = _runs(job_env)
    assert [(n, s) for n, s, _ in runs] == [("scan_symbol", "succeeded")] * 3
    assert sim.stats().by_endpoint["exchangeInfo"] == 1
    assert sim.stats().by_endpoint["klines"] >= 3
    redis.close()


def test_job_settings_are_read_again_only_when_the_environment_changes(
    job_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = job_settings()
    assert job_settings() is first
    monkeypatch.setenv("SCAN_INTERVAL_SECONDS", "17")
    changed = job_settings()
    assert changed is not first
    assert changed.scan_interval_seconds == 17


def test_the_daily_health_job_records_what_it_found(job_env: Engine) -> None:
    settings = job_settings()
    local = in_process(job_env, settings)
    Scheduler((Entry("scan", 60),), local).tick(2_000_000.0)
    local.close()
    counts = tasks.run_job("db_health")
    runs = _runs(job_env)
    assert runs[-1][:2] == ("db_health", "succeeded")
    assert runs[-1][2] == counts
    assert counts["symbols"] == 1
    assert counts["holes"] == 0


def test_a_scan_session_reloads_markets_once_they_are_older_than_their_ttl(
    job_env: Engine, sim: SimulatorServer
) -> None:
    scans = ScanSession(job_env, job_settings(), markets_ttl_s=0.0)
    try:
        scans.cycle()
        scans.cycle()
    finally:
        scans.close()
    assert sim.stats().by_endpoint["exchangeInfo"] == 2


def test_the_registry_drives_the_in_process_runner(job_env: Engine) -> None:
    local = in_process(job_env, job_settings())
    try:
        fired = Scheduler(schedule(), local).tick(3_000_000.0)
    finally:
        local.close()
    frequent = [spec.name for spec in JOBS if spec.every is not None and spec.every <= 3600]
    assert fired == frequent  # daily jobs wait for their slot
    every = _runs(job_env)
    # Without Redis the dispatcher sends each new signal's alerts itself, as recorded runs.
    alerts = [r for r in every if r[0] == "send_signal_notifications"]
    runs = [r for r in every if r[0] != "send_signal_notifications"]
    assert [(name, status) for name, status, _ in runs] == [(n, "succeeded") for n in frequent]
    with Session(job_env) as session:
        signals = session.scalar(select(func.count()).select_from(Signal))
    assert signals
    assert len(alerts) == signals
    assert {status for _, status, _ in alerts} == {"succeeded"}
    dispatched = runs[fired.index("dispatch_events")]
    assert dispatched[2] is not None
    assert dispatched[2]["sequenced"] > 0  # the scan's events, handed over in the same tick
    assert dispatched[2]["handled_log"] == dispatched[2]["sequenced"]


def test_the_registry_drives_rq_each_job_on_its_queue_with_its_timeout(
    job_env: Engine, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    redis: Redis[bytes] = Redis.from_url(redis_url)
    queues = {name: Queue(name.value, connection=redis) for name in PRIORITY}
    for queue in queues.values():
        queue.empty()
    dispatch = enqueuer(job_env, job_settings(), redis)
    for entry in schedule():
        dispatch(entry, 1)
    enqueued = {
        (job.args[0] if job.func_name.endswith("run_job") else "scan"): (queue, job)
        for queue in queues.values()
        for job in queue.jobs
    }
    scheduled = [spec for spec in JOBS if spec.every is not None]
    assert set(enqueued) == {spec.name for spec in scheduled}
    for spec in scheduled:
        queue, job = enqueued[spec.name]
        assert (queue.name, job.func_name, job.timeout) == (
            spec.queue.value,
            spec.function,
            spec.timeout,
        )
    SimpleWorker(list(queues.values()), connection=redis).work(burst=True)
    runs = _runs(job_env)
    recorded = {name: status for name, status, _ in runs}
    assert recorded == {
        ("scan_symbol" if spec.per_symbol else spec.name): "succeeded" for spec in scheduled
    }
    redis.close()


def test_the_daily_billing_job_runs_and_records_its_counts(job_env: Engine) -> None:
    counts = tasks.run_job("billing_emails")
    assert counts == {"reminded": 0, "expired": 0}
    assert _runs(job_env)[-1][:2] == ("billing_emails", "succeeded")
