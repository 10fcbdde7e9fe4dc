"""Ingestion end to end: the real CCXT client against the simulator, into a real database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.candles import load_candles, load_stored_candles
from cryptolens.db.known_gaps import load_known_gaps
from cryptolens.db.models import Candle, Symbol
from cryptolens.db.symbols import ensure_symbol
from cryptolens.domain.errors import UnknownSymbolError
from cryptolens.market.simulator import Dataset, SimulatorServer
from cryptolens.market.simulator.faults import FaultKind, FaultRule
from cryptolens.services.market.clock import market_now
from cryptolens.services.market.ingest import backfill, ingest_cycle
from tests.builders.db import clear_tables
from tests.builders.market import DAY, MINUTE, T0, client_for, drop_rows, exact_dataset
from tests.builders.settings import make_settings

HIGHER = ("5m", "15m", "30m", "1h", "2h", "4h", "1d")


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    yield migrated_engine
    clear_tables(migrated_engine)


@pytest.fixture
def data() -> Dataset:
    return exact_dataset(3 * 24 * 60, seed=11)  # three days of 1m candles from T0


@pytest.fixture
def sim(data: Dataset) -> Iterator[SimulatorServer]:
    server = SimulatorServer({"BTC/USDT": data}, speed=0.0, start_at_ms=T0 + 2 * 86_400_000)
    server.start()
    yield server
    server.stop()


def _settings(sim: SimulatorServer, database_url: str, **extra: Any) -> Settings:
    return make_settings(
        database_url=database_url, exchange_api_url=sim.base_url, symbols="BTC/USDT", **extra
    )


def _watch(engine: Engine, symbol: str = "BTC/USDT") -> int:
    with Session(engine) as session, session.begin():
        return ensure_symbol(session, exchange="binance", symbol=symbol).id


def _cycle(engine: Engine, settings: Settings, sim: SimulatorServer, **client: Any) -> Any:
    async def run() -> Any:
        async with client_for(sim.base_url, **client) as exchange:
            return await ingest_cycle(engine, settings, exchange)

    return asyncio.run(run())


def _backfill(engine: Engine, settings: Settings, sim: SimulatorServer, **kwargs: Any) -> Any:
    async def run() -> Any:
        async with client_for(sim.base_url) as exchange:
            return await backfill(engine, settings, exchange, symbol="BTC/USDT", **kwargs)

    return asyncio.run(run())


def _stored(engine: Engine, symbol_id: int, timeframe: str) -> Any:
    with engine.connect() as connection:
        return load_candles(connection, symbol_id=symbol_id, timeframe=timeframe)


def _complete(engine: Engine, symbol_id: int, timeframe: str) -> Any:
    with engine.connect() as connection:
        return load_stored_candles(connection, symbol_id=symbol_id, timeframe=timeframe).complete


def _source(data: Dataset, start: int, end: int) -> pd.DataFrame:
    keep = (data.open_time >= start) & (data.open_time < end)
    return pd.DataFrame(
        {c: getattr(data, c)[keep] for c in ("open_time", "open", "high", "low", "close", "volume")}
    )


def _reference_resample(base: Any, timeframe: str, now_ms: int) -> pd.DataFrame:
    """Independent reference: pandas resample of the stored 1m data, closed buckets only."""
    frame = pd.DataFrame(
        {
            "open": base.open,
            "high": base.high,
            "low": base.low,
            "close": base.close,
            "volume": base.volume,
        },
        index=pd.to_datetime(base.open_time, unit="ms", utc=True),
    )
    rule = {
        "5m": "5min",
        "15m": "15min",
        "30m": "30min",
        "1h": "1h",
        "2h": "2h",
        "4h": "4h",
        "1d": "1D",
    }[timeframe]
    out = (
        frame.resample(rule, origin="epoch", label="left", closed="left")
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
        .dropna(subset=["open"])
    )
    out["open_time"] = out.index.asi8 // 1_000_000
    step = pd.Timedelta(rule).value // 1_000_000
    return out[out["open_time"] + step <= now_ms].reset_index(drop=True)


def test_a_cycle_stores_only_closed_candles_and_never_the_forming_one(
    engine: Engine, sim: SimulatorServer, data: Dataset, database_url: str
) -> None:
    settings = _settings(sim, database_url)
    symbol_id = _watch(engine)
    sim.clock.advance(30_000)  # half-way through a minute: a candle is forming
    now = sim.now_ms()
    report = _cycle(engine, settings, sim)
    assert report.failed == []
    stored = _stored(engine, symbol_id, "1m")
    assert len(stored) > 0
    assert int(stored.open_time[-1]) + MINUTE <= now  # the newest stored candle has closed
    expected = _source(data, int(stored.open_time[0]), now - now % MINUTE)
    assert np.array_equal(stored.open_time, expected.open_time.to_numpy())
    assert np.array_equal(stored.close, expected.close.to_numpy())
    with Session(engine) as session:
        assert market_now(session, exchange="binance") == now


def test_the_next_cycle_adds_the_newly_closed_candle(
    engine: Engine, sim: SimulatorServer, data: Dataset, database_url: str
) -> None:
    settings = _settings(sim, database_url)
    symbol_id = _watch(engine)
    _cycle(engine, settings, sim)
    before = _stored(engine, symbol_id, "1m")
    sim.clock.advance(MINUTE)
    report = _cycle(engine, settings, sim)
    after = _stored(engine, symbol_id, "1m")
    assert len(after) == len(before) + 1
    assert report.symbols[0].changed == 1


def test_a_revised_last_candle_is_corrected_and_its_aggregates_recomputed(
    engine: Engine, sim: SimulatorServer, database_url: str
) -> None:
    settings = _settings(sim, database_url)
    symbol_id = _watch(engine)
    _cycle(engine, settings, sim)
    last = int(_stored(engine, symbol_id, "1m").open_time[-1])
    hour_before = _stored(engine, symbol_id, "1h")
    sim.revise_candle("BTC/USDT", last, high=999_999.0, close=999_000.0)
    _cycle(engine, settings, sim)
    revised = _stored(engine, symbol_id, "1m")
    assert revised.close[-1] == 999_000.0
    assert revised.high[-1] == 999_999.0
    hour = _stored(engine, symbol_id, "1h")
    bucket = last - last % 3_600_000
    row = int(np.flatnonzero(hour.open_time == bucket)[0])
    assert hour.high[row] == 999_999.0
    assert hour.close[row] == 999_000.0
    assert hour_before.high[np.flatnonzero(hour_before.open_time == bucket)[0]] != 999_999.0


def test_aggregates_equal_a_reference_resample_of_the_stored_base(
    engine: Engine, sim: SimulatorServer, database_url: str
) -> None:
    settings = _settings(sim, database_url)
    symbol_id = _watch(engine)
    report = _backfill(engine, settings, sim, since_ms=T0)
    assert report.gaps_left == 0
    now = sim.now_ms()
    base = _stored(engine, symbol_id, "1m")
    for timeframe in HIGHER:
        stored = _stored(engine, symbol_id, timeframe)
        reference = _reference_resample(base, timeframe, now)
        assert np.array_equal(stored.open_time, reference.open_time.to_numpy()), timeframe
        for column in ("open", "high", "low", "close"):
            assert np.array_equal(getattr(stored, column), reference[column].to_numpy()), column
        assert np.allclose(stored.volume, reference.volume.to_numpy(), rtol=1e-12)
        assert _complete(engine, symbol_id, timeframe).all()


def test_an_exchange_hole_makes_its_bucket_incomplete_not_missing(
    engine: Engine, database_url: str
) -> None:
    source = exact_dataset(6 * 60, seed=3)
    holed = Dataset.from_arrays(
        *(
            np.delete(getattr(source, c), [70, 71])
            for c in ("open_time", "open", "high", "low", "close", "volume")
        ),
        step_ms=MINUTE,
    )
    with SimulatorServer({"BTC/USDT": holed}, speed=0.0, start_at_ms=T0 + 6 * 3_600_000) as sim:
        settings = _settings(sim, database_url)
        symbol_id = _watch(engine)
        _backfill(engine, settings, sim, since_ms=T0)
        hours = _stored(engine, symbol_id, "1h")
    assert len(hours) == 6
    assert _complete(engine, symbol_id, "1h").tolist() == [True, False, True, True, True, True]


def test_faults_on_a_third_of_requests_still_give_complete_exact_data(
    engine: Engine, data: Dataset, database_url: str
) -> None:
    faults = [
        FaultRule(FaultKind.RATE_LIMIT, probability=0.06, endpoints=frozenset({"klines"})),
        FaultRule(FaultKind.SERVER_ERROR, probability=0.06, endpoints=frozenset({"klines"})),
        FaultRule(FaultKind.SLOW, probability=0.03, delay_s=2.5, endpoints=frozenset({"klines"})),
        FaultRule(FaultKind.MALFORMED, probability=0.06, rows=3),
        FaultRule(FaultKind.DUPLICATE, probability=0.06, rows=5),
        FaultRule(FaultKind.MISSING, probability=0.06, rows=7),
    ]
    now = T0 + 2 * 86_400_000
    with SimulatorServer(
        {"BTC/USDT": data}, speed=0.0, start_at_ms=now, faults=faults, seed=7
    ) as sim:
        settings = _settings(sim, database_url)
        symbol_id = _watch(engine)
        report = _backfill(engine, settings, sim, since_ms=T0)
        stats = sim.stats()
    assert report.gaps_left == 0
    stored = _stored(engine, symbol_id, "1m")
    expected = _source(data, T0, now)
    for column in ("open_time", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(stored, column), expected[column].to_numpy()), column
    assert sum(stats.faults.values()) >= 0.25 * stats.requests


def test_an_unknown_symbol_is_deactivated_and_the_others_still_ingest(
    engine: Engine, sim: SimulatorServer, database_url: str
) -> None:
    settings = _settings(sim, database_url)
    good = _watch(engine, "BTC/USDT")
    _watch(engine, "NOPE/USDT")
    report = _cycle(engine, settings, sim)
    errors = {s.symbol: s.error for s in report.symbols}
    assert errors["BTC/USDT"] is None
    assert errors["NOPE/USDT"]
    with Session(engine) as session:
        nope = session.scalars(select(Symbol).where(Symbol.symbol == "NOPE/USDT")).one()
        assert nope.active is False
        assert nope.deactivated_reason
    assert len(_stored(engine, good, "1m")) > 0
    second = _cycle(engine, settings, sim)
    assert [s.symbol for s in second.symbols] == ["BTC/USDT"]  # reported once, then skipped


def test_backfill_a_second_time_fetches_nothing_new(
    engine: Engine, sim: SimulatorServer, database_url: str
) -> None:
    settings = _settings(sim, database_url)
    first = _backfill(engine, settings, sim, since_ms=T0 + 86_400_000)
    second = _backfill(engine, settings, sim, since_ms=T0 + 86_400_000)
    assert first.stored == 1440
    assert (second.fetched, second.stored, second.gaps_left) == (0, 0, 0)


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(Candle).where(Candle.timeframe == "1m")
        ).scalar_one()


@pytest.mark.slow
def test_a_backfill_killed_midway_and_restarted_leaves_no_duplicate_and_no_hole(
    engine: Engine, data: Dataset, database_url: str, tmp_path: Path
) -> None:
    now = T0 + 3 * 86_400_000 - MINUTE
    slow = [FaultRule(FaultKind.SLOW, delay_s=0.2, endpoints=frozenset({"klines"}))]
    with SimulatorServer({"BTC/USDT": data}, speed=0.0, start_at_ms=now, faults=slow) as sim:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "EXCHANGE_API_URL": sim.base_url,
            "INSTANCE_DIR": str(tmp_path),
            "LOG_LEVEL": "WARNING",
            "CRYPTOLENS_ENV": "testing",
        }
        command = [
            sys.executable,
            "-m",
            "cryptolens",
            "backfill",
            "BTC/USDT",
            "--since",
            "2024-01-01",
            "--chunk",
            "300",
        ]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while _count(engine) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        partial = _count(engine)
        assert 0 < partial < len(data.open_time) - 1
        sim.faults.clear()
        rerun = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, check=False
        )
    assert rerun.returncode == 0, rerun.stderr
    assert "gaps left 0" in rerun.stdout
    symbol_id = _watch(engine)
    stored = _stored(engine, symbol_id, "1m")
    expected = _source(data, T0, now - now % MINUTE)
    assert np.array_equal(stored.open_time, expected.open_time.to_numpy())
    assert np.array_equal(stored.close, expected.close.to_numpy())
    assert len(np.unique(stored.open_time)) == len(stored.open_time)


def test_backfill_stores_every_candle_when_every_answer_repeats_rows(
    engine: Engine, sim: SimulatorServer, data: Dataset, database_url: str
) -> None:
    # CCXT cuts each repeat-bearing answer to `limit`, so every page looks short the same way;
    # that once passed for a confirmed exchange gap and the rest of each chunk was skipped.
    sim.faults.set_rules([FaultRule(FaultKind.DUPLICATE, rows=2, endpoints=frozenset({"klines"}))])
    settings = _settings(sim, database_url)
    report = _backfill(engine, settings, sim, since_ms=T0, chunk=3000)
    now = sim.now_ms()
    expected = _source(data, T0, now - now % MINUTE)
    stored = _stored(engine, _watch(engine), "1m")
    assert np.array_equal(stored.open_time, expected.open_time.to_numpy())
    assert (report.gaps_left, report.exchange_gaps) == (0, 0)


def test_the_stretch_before_the_exchange_lists_a_symbol_is_no_gap_left(
    engine: Engine, sim: SimulatorServer, database_url: str
) -> None:
    settings = _settings(sim, database_url)
    report = _backfill(engine, settings, sim, since_ms=T0 - 11 * MINUTE)
    assert (report.gaps_left, report.exchange_gaps) == (0, 0)
    assert (report.listed_from_ms, report.unlisted_candles) == (T0, 11)
    assert "gaps left 0 (0 candles)" in report.summary()
    assert "history starts 2024-01-01 00:00 UTC (11 candles before)" in report.summary()


def test_a_hole_the_exchange_lacks_too_is_reported_apart_and_recorded_as_known(
    engine: Engine, data: Dataset, database_url: str
) -> None:
    hole = [T0 + i * MINUTE for i in range(100, 113)]
    with SimulatorServer(
        {"BTC/USDT": drop_rows(data, hole)}, speed=0.0, start_at_ms=T0 + DAY
    ) as sim:
        report = _backfill(engine, _settings(sim, database_url), sim, since_ms=T0)
    assert (report.gaps_left, report.exchange_gaps, report.exchange_missing) == (0, 1, 13)
    assert report.complete
    with engine.connect() as connection:
        known = load_known_gaps(connection, symbol_id=_watch(engine), timeframe="1m")
    assert known == [(hole[0], hole[-1] + MINUTE)]


def test_backfill_of_a_symbol_the_exchange_does_not_list_watches_nothing(
    engine: Engine, sim: SimulatorServer, database_url: str
) -> None:
    settings = _settings(sim, database_url)

    async def run() -> None:
        async with client_for(sim.base_url) as exchange:
            await backfill(engine, settings, exchange, symbol="NOPE/USDT", since_ms=T0)

    with pytest.raises(UnknownSymbolError):
        asyncio.run(run())
    with Session(engine) as session:
        assert session.scalars(select(Symbol)).all() == []
