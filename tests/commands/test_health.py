"""``cryptolens db-health``: the summary, the exit status, ``--fix`` against the simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, update

from cryptolens.clock import utcnow
from cryptolens.db.known_gaps import record_known_gaps
from cryptolens.db.models import Candle
from cryptolens.market.simulator import Dataset, SimulatorServer
from tests.builders.cli import Invoke
from tests.builders.db import add_symbol, store
from tests.builders.market import DAY, HOUR, MINUTE, T0, exact_dataset, source_slice
from tests.builders.settings import make_settings

NOW = T0 + DAY


@pytest.fixture
def data() -> Dataset:
    return exact_dataset(2 * 24 * 60, seed=21)


@pytest.fixture
def sim(data: Dataset) -> Iterator[SimulatorServer]:
    with SimulatorServer({"BTC/USDT": data}, speed=0.0, start_at_ms=NOW) as server:
        yield server


@pytest.fixture
def stored(engine: Engine, database_url: str, data: Dataset) -> int:
    """One day of 1m candles for BTC/USDT, stored as ingestion stores them; its symbol id."""
    symbol_id = add_symbol(engine, "BTC/USDT")
    store(engine, make_settings(), symbol_id, source_slice(data, T0, NOW))
    return symbol_id


def _break(engine: Engine, symbol_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            delete(Candle).where(
                Candle.symbol_id == symbol_id,
                Candle.timeframe == "1m",
                Candle.open_time.in_([T0 + 10 * MINUTE, T0 + 11 * MINUTE]),
            )
        )
        connection.execute(
            update(Candle)
            .where(
                Candle.symbol_id == symbol_id,
                Candle.timeframe == "4h",
                Candle.open_time == T0 + 4 * HOUR,
            )
            .values(high=Candle.high * 2)
        )


def _row(output: str, timeframe: str) -> list[str]:
    (line,) = [line.split() for line in output.splitlines() if line.split()[:1] == [timeframe]]
    return line


def test_a_healthy_store_prints_every_timeframe_and_exits_0(stored: int, invoke: Invoke) -> None:
    result = invoke("db-health")
    assert result.exit_code == 0, result.output
    assert "BTC/USDT: healthy" in result.output
    assert _row(result.output, "1m") == ["1m", "1440", "0", "0", "-", "-", "-"]
    assert _row(result.output, "1d") == ["1d", "1", "0", "0", "0", "0", "0"]
    assert result.output.rstrip().endswith("healthy: 1 symbol(s) checked")


def test_problems_are_summarised_and_exit_1(stored: int, engine: Engine, invoke: Invoke) -> None:
    _break(engine, stored)
    result = invoke("db-health", "--symbol", "btc/usdt")
    assert result.exit_code == 1, result.output
    assert "BTC/USDT: PROBLEMS" in result.output
    assert (
        "  1m holes: 1 (2 candles missing)\n    2024-01-01 00:10 .. 2024-01-01 00:11 UTC (2 "
        in (result.output)
    )
    # different: 00:00 (lost its completeness with the hole) and 04:00 (tampered)
    assert _row(result.output, "4h")[-1] == "2"
    assert _row(result.output, "1h")[-1] == "1"
    assert result.output.rstrip().splitlines()[-1] == (
        "problems remain: unhealthy 1, holes 1, missing_candles 2, aggregates_different 8"
    )


def test_fix_repairs_from_the_exchange_and_exits_0(
    stored: int, engine: Engine, invoke: Invoke
) -> None:
    _break(engine, stored)
    result = invoke("db-health", "--fix")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("repair: fetched 2, stored 2,")
    assert "BTC/USDT: healthy" in result.output
    assert invoke("db-health").exit_code == 0


def test_only_known_exchange_gaps_left_are_listed_apart_and_exit_0(
    stored: int, engine: Engine, invoke: Invoke
) -> None:
    hole = (T0 + 10 * MINUTE, T0 + 12 * MINUTE)
    _break(engine, stored)
    with engine.begin() as connection:
        record_known_gaps(
            connection,
            symbol_id=stored,
            timeframe="1m",
            gaps=[hole],
            reason="the exchange answered without these candles",
            now=utcnow(),
        )
    invoke("db-health", "--fix")  # rebuilds the tampered 4h bucket; the hole is known
    result = invoke("db-health")
    assert result.exit_code == 0, result.output
    assert "BTC/USDT: healthy" in result.output
    assert "1m exchange gaps (known, not a problem): 1 (2 candles" in result.output
    assert "    2024-01-01 00:10 .. 2024-01-01 00:11 UTC (2 candles)" in result.output
    assert "1m holes" not in result.output


def test_an_unknown_symbol_is_one_error_line_and_exit_2(stored: int, invoke: Invoke) -> None:
    result = invoke("db-health", "--symbol", "NOPE/USDT")
    assert result.exit_code == 2
    assert result.output.strip() == "Error: symbol NOPE/USDT is not watched on binance"


def test_no_symbols_is_healthy(engine: Engine, invoke: Invoke) -> None:
    result = invoke("db-health")
    assert result.exit_code == 0
    assert "no active symbols to check" in result.output


@pytest.mark.slow
def test_fix_with_the_exchange_down_is_a_clear_error_not_a_traceback(
    stored: int, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    _break(engine, stored)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EXCHANGE_API_URL": "http://127.0.0.1:9",  # discard port: nothing listens
        "EXCHANGE_TIMEOUT_MS": "500",
        "INSTANCE_DIR": str(tmp_path),
        "LOG_LEVEL": "CRITICAL",
        "CRYPTOLENS_ENV": "testing",
    }
    command = [sys.executable, "-m", "cryptolens", "db-health", "--fix"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_documents_the_exit_status(invoke: Invoke) -> None:
    result = invoke("db-health", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Exit status: 0 healthy, 1 problems remain, 2 the check could not run" in text
    assert "EXCHANGE_API_URL" in text
