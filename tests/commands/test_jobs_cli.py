"""The scan, signals, worker and scheduler commands, run as an operator would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.models import JobRun, Pattern, Signal
from cryptolens.market.simulator import SimulatorServer
from cryptolens.market.simulator.demo import demo_datasets
from cryptolens.services.ops.runtime_settings import RuntimeSettings, save_runtime
from tests.test_cli import _cryptolens

START = 1_514_764_800_000  # 2018-01-01: the demo history has six months behind it


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    btc = demo_datasets()["BTC/USDT"]
    with SimulatorServer({"BTC/USDT": btc}, speed=0.0, start_at_ms=START) as server:
        yield server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def env(sim: SimulatorServer, workdir: Path) -> dict[str, str]:
    """One database for the module: migrated, BTC/USDT watched (subprocesses are slow)."""
    values = {
        "EXCHANGE_API_URL": sim.base_url,
        "BASE_TIMEFRAME": "1h",
        "TIMEFRAMES": "1h,4h,1d",
        "SYMBOLS": "BTC/USDT",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    assert _cryptolens("db", "upgrade", cwd=workdir, **values).returncode == 0
    added = _cryptolens("symbols", "add", "--no-check", "BTC/USDT", cwd=workdir, **values)
    assert added.returncode == 0, added.stderr
    return values


def _count(workdir: Path, model: object) -> int:
    engine = create_engine(f"sqlite:///{workdir / 'instance' / 'cryptolens.sqlite'}")
    with Session(engine) as session:
        n = int(session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]
    engine.dispose()
    return n


def test_scan_once_fetches_scans_and_lists_its_signals(workdir: Path, env: dict[str, str]) -> None:
    result = _cryptolens("scan", "--once", cwd=workdir, **env)
    assert result.returncode == 0, result.stderr
    assert "zones_new" in result.stdout
    assert _count(workdir, Pattern) > 0
    signals = _count(workdir, Signal)
    assert signals > 0
    listed = _cryptolens("signals", "list", "--limit", "1000", cwd=workdir, **env)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.strip().splitlines()) == signals + 1  # header + one line each
    assert "BTC/USDT" in listed.stdout


def test_scan_of_an_unknown_symbol_is_a_clear_error(workdir: Path, env: dict[str, str]) -> None:
    result = _cryptolens("scan", "--once", "--symbol", "NOPE/USDT", cwd=workdir, **env)
    assert result.returncode == 1
    assert "NOPE/USDT" in result.stderr
    assert "Traceback" not in result.stderr


def test_signals_list_refuses_an_unknown_status(workdir: Path, env: dict[str, str]) -> None:
    result = _cryptolens("signals", "list", "--status", "won", cwd=workdir, **env)
    assert result.returncode == 2
    assert "won" in result.stderr


def test_signals_list_refuses_a_malformed_symbol_with_the_symbol_rule(
    workdir: Path, env: dict[str, str]
) -> None:
    result = _cryptolens("signals", "list", "--symbol", "BTC-USDT", cwd=workdir, **env)
    assert result.returncode == 2
    assert "'BTC-USDT' is not of the form BASE/QUOTE" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_worker_without_redis_says_what_to_run_instead(
    workdir: Path, env: dict[str, str]
) -> None:
    result = _cryptolens("worker", "--burst", cwd=workdir, **env)
    assert result.returncode == 1
    assert "REDIS_URL" in result.stderr
    assert "scheduler" in result.stderr


def test_the_worker_names_an_unknown_queue(workdir: Path, env: dict[str, str]) -> None:
    result = _cryptolens("worker", "--no-fork", "--queue", "urgent", cwd=workdir, **env)
    assert result.returncode == 2
    assert "'urgent' is not one of 'high', 'default', 'low'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_scheduler_without_redis_runs_the_jobs_itself(
    workdir: Path, env: dict[str, str]
) -> None:
    result = _cryptolens("scheduler", "--once", cwd=workdir, **env)
    assert result.returncode == 0, result.stderr
    assert "running jobs in this process" in result.stdout
    engine = create_engine(f"sqlite:///{workdir / 'instance' / 'cryptolens.sqlite'}")
    with Session(engine) as session:
        runs = dict(session.execute(select(JobRun.name, JobRun.status)).all())
    engine.dispose()
    assert runs["scan"] == "succeeded"
    assert runs["refresh_stats"] == "succeeded"
    assert _count(workdir, Pattern) > 0


def test_jobs_run_records_the_run_and_jobs_list_shows_it(
    workdir: Path, env: dict[str, str]
) -> None:
    ran = _cryptolens("jobs", "run", "refresh_stats", cwd=workdir, **env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("refresh_stats: succeeded")
    listed = _cryptolens("jobs", "list", "--name", "refresh_stats", cwd=workdir, **env)
    assert "refresh_stats: succeeded" in listed.stdout.splitlines()[0]
    registered = _cryptolens("jobs", "registered", cwd=workdir, **env).stdout.splitlines()
    assert [line.split()[:3] for line in registered if line.startswith("dispatch_events")] == [
        ["dispatch_events", "high", "60s"]
    ]
    unknown = _cryptolens("jobs", "run", "mine_bitcoin", cwd=workdir, **env)
    assert unknown.returncode == 2
    assert "mine_bitcoin" in unknown.stderr


def test_a_paused_scheduler_says_so_fires_nothing_and_uses_the_admins_interval(
    workdir: Path, env: dict[str, str]
) -> None:
    engine = create_engine(f"sqlite:///{workdir / 'instance' / 'cryptolens.sqlite'}")

    def runtime(settings: RuntimeSettings) -> None:
        with Session(engine) as session, session.begin():
            save_runtime(session, settings, now=utcnow())

    runtime(RuntimeSettings(scheduler_paused=True, scan_interval_seconds=120))
    try:
        runs = _count(workdir, JobRun)
        result = _cryptolens("scheduler", "--once", cwd=workdir, **env)
        assert result.returncode == 0, result.stderr
        assert "running jobs in this process (paused)" in result.stdout
        assert "scan every 120s" in result.stdout
        assert _count(workdir, JobRun) == runs
    finally:
        runtime(RuntimeSettings())
        engine.dispose()
