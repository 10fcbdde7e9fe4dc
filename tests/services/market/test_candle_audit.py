"""Database health on a real database: what a check finds, and what a repair through the
simulator puts back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, delete, insert, update
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.candles import load_candles, load_stored_candles
from cryptolens.db.models import Candle
from cryptolens.db.symbols import deactivate_symbol
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.market.aggregate import aggregate_all
from cryptolens.market.simulator import Dataset, SimulatorServer
from cryptolens.services.market.candle_audit import (
    HealthReport,
    TimeframeHealth,
    check_candles,
    repair,
    run_db_health,
)
from tests.builders.db import add_symbol, store
from tests.builders.market import DAY, HOUR, MINUTE, T0, client_for, drop_rows, exact_dataset
from tests.builders.market import source_slice as _slice
from tests.builders.settings import make_settings

NOW = T0 + 2 * DAY  # the exchange's clock: two days of 1m candles are closed


@dataclass(frozen=True)
class Store:
    engine: Engine
    settings: Settings
    symbol_id: int
    data: Dataset


@pytest.fixture
def data() -> Dataset:
    return exact_dataset(3 * 24 * 60, seed=5)  # three days at the exchange, two of them closed


@pytest.fixture
def clean(scan_engine: Engine, database_url: str, data: Dataset) -> Store:
    """Two days of 1m candles stored as ingestion stores them, every timeframe configured."""
    settings = make_settings(database_url=database_url)
    symbol_id = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, settings, symbol_id, _slice(data, T0, NOW))
    return Store(scan_engine, settings, symbol_id, data)


@pytest.fixture
def sim(data: Dataset) -> Iterator[SimulatorServer]:
    with SimulatorServer({"BTC/USDT": data}, speed=0.0, start_at_ms=NOW) as server:
        yield server


def _check(s: Store, **kwargs: Any) -> HealthReport:
    with s.engine.connect() as connection:
        return check_candles(connection, settings=s.settings, **kwargs)


def _timeframes(report: HealthReport) -> dict[str, TimeframeHealth]:
    (only,) = report.symbols
    return {t.timeframe: t for t in only.timeframes}


def _delete(s: Store, timeframe: str, open_times: list[int]) -> None:
    with s.engine.begin() as connection:
        connection.execute(
            delete(Candle).where(
                Candle.symbol_id == s.symbol_id,
                Candle.timeframe == timeframe,
                Candle.open_time.in_(open_times),
            )
        )


def _insert(s: Store, timeframe: str, open_time: int) -> None:
    row = {"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 3.0, "complete": True}
    with s.engine.begin() as connection:
        connection.execute(
            insert(Candle).values(
                symbol_id=s.symbol_id, timeframe=timeframe, open_time=open_time, **row
            )
        )


def _raise_high(s: Store, timeframe: str, open_time: int) -> None:
    with s.engine.begin() as connection:
        connection.execute(
            update(Candle)
            .where(
                Candle.symbol_id == s.symbol_id,
                Candle.timeframe == timeframe,
                Candle.open_time == open_time,
            )
            .values(high=Candle.high + 1.0)
        )


def _problems(report: HealthReport) -> dict[str, int]:
    return {
        k: v
        for k, v in report.counts().items()
        if v and k not in ("symbols", "unhealthy") and not k.startswith("repair_")
    }


@pytest.mark.parametrize("window_candles", [50_000, 1])
def test_a_clean_store_is_healthy_whatever_the_window(clean: Store, window_candles: int) -> None:
    report = _check(clean, window_candles=window_candles)
    assert report.healthy
    assert _problems(report) == {}
    assert report.counts()["symbols"] == 1
    rows = {tf: t.rows for tf, t in _timeframes(report).items()}
    assert rows == {tf: 2 * DAY // timeframe_ms(tf) for tf in clean.settings.timeframes}


@pytest.mark.parametrize("window_candles", [50_000, 1])
def test_deleted_base_candles_are_reported_as_exact_holes_and_their_buckets_as_different(
    clean: Store, window_candles: int
) -> None:
    gone = [T0 + i * MINUTE for i in (100, 101, 102, 2000)]
    _delete(clean, "1m", gone)
    report = _check(clean, window_candles=window_candles)
    (health,) = report.symbols
    assert not report.healthy
    assert health.holes == ((gone[0], gone[2] + MINUTE), (gone[3], gone[3] + MINUTE))
    assert health.missing_candles == 4
    for timeframe, found in _timeframes(report).items():
        if timeframe == "1m":
            continue
        step = timeframe_ms(timeframe)
        buckets = {t - t % step for t in gone}  # each now lacks candles: complete no more
        assert (found.missing, found.extra, found.different) == (0, 0, len(buckets)), timeframe


def test_a_tampered_aggregate_and_a_deleted_one_are_different_and_missing(clean: Store) -> None:
    _raise_high(clean, "1h", T0 + 5 * HOUR)
    _delete(clean, "4h", [T0 + 8 * HOUR])
    report = _check(clean)
    found = _timeframes(report)
    assert (found["1h"].different, found["4h"].missing) == (1, 1)
    assert _problems(report) == {"aggregates_different": 1, "aggregates_missing": 1}
    assert report.symbols[0].holes == ()


def test_an_aggregate_with_no_base_data_is_extra_even_far_from_the_rest(clean: Store) -> None:
    _insert(clean, "1h", T0 + 400 * DAY)
    _insert(clean, "1d", T0 - 30 * DAY)
    report = _check(clean, window_candles=1)
    found = _timeframes(report)
    assert (found["1h"].extra, found["1d"].extra) == (1, 1)
    assert _problems(report) == {"aggregates_extra": 2}


def test_misaligned_candles_are_counted_per_timeframe_and_nothing_else(clean: Store) -> None:
    _insert(clean, "1m", T0 + 30_000)
    _insert(clean, "1h", T0 + 30 * MINUTE)
    report = _check(clean)
    found = _timeframes(report)
    assert (found["1m"].misaligned, found["1h"].misaligned) == (1, 1)
    assert _problems(report) == {"misaligned": 2}


def test_only_active_symbols_are_checked_and_an_unknown_id_is_refused(clean: Store) -> None:
    other = add_symbol(clean.engine, "ETH/USDT")
    assert [s.symbol for s in _check(clean).symbols] == ["BTC/USDT", "ETH/USDT"]
    with Session(clean.engine) as session, session.begin():
        deactivate_symbol(session, symbol_id=other, reason="test")
    assert [s.symbol for s in _check(clean).symbols] == ["BTC/USDT"]
    assert [s.symbol for s in _check(clean, symbol_id=other).symbols] == ["ETH/USDT"]
    with pytest.raises(NotFoundError):
        _check(clean, symbol_id=other + 1000)


def test_a_symbol_with_only_aggregates_reports_every_one_as_extra(clean: Store) -> None:
    _delete(clean, "1m", [T0 + i * MINUTE for i in range(2 * 24 * 60)])
    found = _timeframes(_check(clean))
    assert found["1m"].rows == 0
    for timeframe in clean.settings.higher_timeframes:
        assert found[timeframe].extra == 2 * DAY // timeframe_ms(timeframe), timeframe


def _vandalise(s: Store) -> list[int]:
    """Holes, a tampered, a deleted and an extra aggregate, misaligned rows; the holes."""
    gone = [T0 + i * MINUTE for i in (*range(300, 420), 1439, 1440, 2500)]
    _delete(s, "1m", gone)
    _raise_high(s, "1h", T0 + 20 * HOUR)
    _delete(s, "4h", [T0 + 4 * HOUR])
    _delete(s, "5m", [T0 + 1000 * MINUTE])
    _insert(s, "1d", T0 + 10 * DAY)
    _insert(s, "1m", T0 + 61_000)
    _insert(s, "15m", T0 + 5 * MINUTE)
    return gone


def _assert_equals_the_exchange(s: Store, source: Dataset) -> None:
    """Base candles equal the exchange's; every aggregate equals a fresh one over them."""
    expected = _slice(source, T0, NOW)
    built = aggregate_all(expected, base_timeframe="1m", targets=s.settings.higher_timeframes)
    with s.engine.connect() as connection:
        base = load_candles(connection, symbol_id=s.symbol_id, timeframe="1m")
        for column in ("open_time", "open", "high", "low", "close", "volume"):
            assert np.array_equal(getattr(base, column), getattr(expected, column)), column
        for timeframe, buckets in built.items():
            stored = load_stored_candles(connection, symbol_id=s.symbol_id, timeframe=timeframe)
            assert np.array_equal(stored.complete, buckets.complete)
            for column in ("open_time", "open", "high", "low", "close"):
                ours = getattr(stored.candles, column)
                assert np.array_equal(ours, getattr(buckets, column)), column
            assert np.allclose(stored.candles.volume, buckets.volume, rtol=1e-12, atol=0)


def test_fix_restores_holes_and_aggregates_to_what_the_exchange_has(
    clean: Store, sim: SimulatorServer
) -> None:
    settings = clean.settings.model_copy(update={"exchange_api_url": sim.base_url})
    gone = _vandalise(clean)
    before = run_db_health(clean.engine, settings, fix=False)
    assert set(_problems(before)) == {
        "holes",
        "missing_candles",
        "misaligned",
        "aggregates_missing",
        "aggregates_extra",
        "aggregates_different",
    }
    after = run_db_health(clean.engine, settings, fix=True)
    assert after.healthy, after
    assert after.repair is not None
    assert (after.repair.fetched, after.repair.stored) == (len(gone), len(gone))
    assert (after.repair.deleted, after.repair.failed) == (3, 0)  # 2 misaligned, 1 extra
    assert _problems(after) == {}
    _assert_equals_the_exchange(clean, clean.data)
    assert run_db_health(clean.engine, settings, fix=False).healthy


def test_a_hole_the_exchange_has_too_is_left_known_and_healthy_with_consistent_aggregates(
    scan_engine: Engine, database_url: str
) -> None:
    missing_at_exchange = T0 + 700 * MINUTE
    source = drop_rows(exact_dataset(3 * 24 * 60, seed=8), [missing_at_exchange])
    with SimulatorServer({"BTC/USDT": source}, speed=0.0, start_at_ms=NOW) as server:
        settings = make_settings(database_url=database_url, exchange_api_url=server.base_url)
        s = Store(scan_engine, settings, add_symbol(scan_engine, "BTC/USDT"), source)
        store(scan_engine, settings, s.symbol_id, _slice(source, T0, NOW))
        _delete(s, "1m", [T0 + 50 * MINUTE])
        _raise_high(s, "1d", T0)

        async def run() -> HealthReport:
            async with client_for(server.base_url) as client:
                return await repair(scan_engine, settings, client, _check(s))

        after = asyncio.run(run())
    (health,) = after.symbols
    # The exchange answered without it: recorded as a known gap, reported, not a problem.
    assert health.holes == ()
    assert health.known_holes == ((missing_at_exchange, missing_at_exchange + MINUTE),)
    assert _problems(after) == {"known_holes": 1, "known_missing_candles": 1}
    assert after.healthy
    assert _check(s).symbols[0].known_missing == 1  # a later check still knows it
    assert after.repair is not None
    assert after.repair.fetched == 1
    _assert_equals_the_exchange(s, source)
    hour = _timeframes(after)["1h"]
    assert hour.different == 0


def test_fix_of_an_inactive_symbol_is_refused_before_touching_anything(clean: Store) -> None:
    with Session(clean.engine) as session, session.begin():
        deactivate_symbol(session, symbol_id=clean.symbol_id, reason="test")
    with pytest.raises(ValidationError, match="not active"):
        run_db_health(clean.engine, clean.settings, fix=True, symbol="btc/usdt")
    with pytest.raises(NotFoundError):
        run_db_health(clean.engine, clean.settings, fix=False, symbol="NOPE/USDT")


def test_a_bucket_still_open_after_the_newest_candle_may_be_stored_or_not(
    scan_engine: Engine, database_url: str, data: Dataset
) -> None:
    settings = make_settings(database_url=database_url)
    s = Store(scan_engine, settings, add_symbol(scan_engine, "BTC/USDT"), data)
    # The newest candle is mid-hour: stored with the clock an hour on, its 1h bucket is written
    # (incomplete) while the 2h, 4h and 1d buckets holding it are not yet.
    store(scan_engine, settings, s.symbol_id, _slice(data, T0, NOW - 90 * MINUTE))
    with scan_engine.connect() as connection:
        hours = load_stored_candles(connection, symbol_id=s.symbol_id, timeframe="1h")
    assert hours.candles.open_time[-1] == NOW - 2 * HOUR
    assert not hours.complete[-1]
    assert _check(s).healthy
    _raise_high(s, "1h", NOW - 2 * HOUR)
    assert _problems(_check(s)) == {"aggregates_different": 1}
