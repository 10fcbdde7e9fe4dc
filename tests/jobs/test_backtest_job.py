"""The run_backtest job on queue ``low`` with real Redis: progress in the job's meta, the run
stored done; a sweep's progress counts its backtests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.db.backtests import BacktestRun
from cryptolens.detect import Candles
from cryptolens.market.simulator.demo import demo_datasets
from cryptolens.services.backtests.run import check_request
from cryptolens.services.backtests.store import DONE, queue_run
from cryptolens.services.ops.background import Background
from tests.builders.db import add_symbol, clear_tables, store
from tests.builders.notifications import add_user
from tests.builders.settings import TEST_SECRET, make_settings


@pytest.mark.parametrize(
    ("sweep", "kind", "stage"),
    [
        (None, "single", "done"),
        ({"space": ["min_confluence=1,2", "stop_atr=0.5,1"]}, "sweep", "4/4 backtests"),
    ],
)
def test_a_backtest_is_a_job_on_queue_low_that_reports_its_progress(
    sweep: dict[str, object] | None,
    kind: str,
    stage: str,
    redis_url: str,
    database_url: str,
    migrated_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    clear_tables(migrated_engine)
    scan_settings = make_settings(
        database_url=database_url, base_timeframe="1h", timeframes=("1h", "2h", "4h", "1d")
    )
    ds = demo_datasets()["BTC/USDT"]
    hours = Candles(ds.open_time, ds.open, ds.high, ds.low, ds.close, ds.volume)[: 30 * 24]
    store(migrated_engine, scan_settings, add_symbol(migrated_engine, "BTC/USDT"), hours)
    user = add_user(migrated_engine, "job@example.com")
    request = check_request(
        symbol="BTC/USDT",
        since=datetime.fromtimestamp(int(hours.open_time[0]) / 1000, tz=UTC),
        until=datetime.fromtimestamp(int(hours.open_time[-1]) / 1000, tz=UTC),
        params={},
    )
    run_id = queue_run(
        migrated_engine,
        scan_settings,
        Background(redis),
        user_id=user,
        request=request,
        sweep=sweep,
    )
    queue = Queue("low", connection=redis)
    (job,) = queue.jobs
    assert job.func_name == "cryptolens.jobs.backtests.run_backtest_job"
    assert job.args == (run_id,)
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "BASE_TIMEFRAME": "1h",
        "TIMEFRAMES": "1h,2h,4h,1d",
        "EXCHANGE_ID": "binance",
    }.items():
        monkeypatch.setenv(name, value)
    assert job.perform() == DONE
    meta = Job.fetch(job.id, connection=redis).meta
    assert meta == {"progress": 1.0, "stage": stage}
    with Session(migrated_engine) as session:
        row = session.get(BacktestRun, run_id)
        assert row is not None
        assert (row.status, row.progress, row.kind) == (DONE, 1.0, kind)
    clear_tables(migrated_engine)
    redis.flushdb()
