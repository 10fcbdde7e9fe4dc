from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.candles import (
    find_gaps,
    latest_open_time,
    load_candles,
    load_stored_candles,
    upsert_candles,
)
from cryptolens.db.models import Candle
from cryptolens.db.symbols import ensure_symbol
from cryptolens.detect.candles import Candles
from cryptolens.market.synthetic import synthetic_candles

MINUTE = 60_000


@pytest.fixture
def symbol_id(session: Session) -> int:
    symbol_id = ensure_symbol(session, exchange="binance", symbol="BTC/USDT").id
    session.commit()
    return symbol_id


def test_upsert_then_load_round_trips_every_value(session: Session, symbol_id: int) -> None:
    candles = synthetic_candles(2_500, seed=7)
    sent = upsert_candles(
        session.connection(), symbol_id=symbol_id, timeframe="1m", candles=candles
    )
    session.commit()
    assert sent == 2_500
    stored = load_candles(session.connection(), symbol_id=symbol_id, timeframe="1m")
    assert isinstance(stored, Candles)  # the one candle type, straight into detection
    for column in ("open_time", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(stored, column), getattr(candles, column)), column
    flags = load_stored_candles(session.connection(), symbol_id=symbol_id, timeframe="1m")
    assert flags.complete.all()
    assert flags.candles.same_as(stored)


def test_upserting_a_revised_candle_replaces_it_without_duplicating(
    session: Session, symbol_id: int
) -> None:
    candles = synthetic_candles(10, seed=1)
    connection = session.connection()
    upsert_candles(connection, symbol_id=symbol_id, timeframe="1m", candles=candles)
    revised = synthetic_candles(10, seed=2)  # same times, other values
    upsert_candles(
        connection, symbol_id=symbol_id, timeframe="1m", candles=revised, complete=[False] * 10
    )
    session.commit()
    count = session.scalar(select(func.count()).select_from(Candle))
    assert count == 10
    stored = load_stored_candles(session.connection(), symbol_id=symbol_id, timeframe="1m")
    assert np.array_equal(stored.candles.close, revised.close)
    assert not stored.complete.any()


def test_load_filters_by_range_and_can_take_the_newest(session: Session, symbol_id: int) -> None:
    candles = synthetic_candles(100, seed=3)
    upsert_candles(session.connection(), symbol_id=symbol_id, timeframe="1m", candles=candles)
    session.commit()
    t = candles.open_time
    ranged = load_candles(
        session.connection(),
        symbol_id=symbol_id,
        timeframe="1m",
        start_ms=int(t[10]),
        end_ms=int(t[20]),
    )
    assert np.array_equal(ranged.open_time, t[10:20])
    newest = load_candles(
        session.connection(), symbol_id=symbol_id, timeframe="1m", limit=5, newest=True
    )
    assert np.array_equal(newest.open_time, t[-5:])
    assert latest_open_time(session.connection(), symbol_id=symbol_id, timeframe="1m") == t[-1]
    assert latest_open_time(session.connection(), symbol_id=symbol_id, timeframe="5m") is None


def test_gaps_are_the_missing_ranges(session: Session, symbol_id: int) -> None:
    candles = synthetic_candles(60, seed=4)
    keep = np.ones(60, dtype=bool)
    keep[[0, 10, 11, 12, 40, 59]] = False
    kept = type(candles)(
        *(
            getattr(candles, c)[keep]
            for c in ("open_time", "open", "high", "low", "close", "volume")
        )
    )
    upsert_candles(session.connection(), symbol_id=symbol_id, timeframe="1m", candles=kept)
    session.commit()
    t0 = int(candles.open_time[0])
    gaps = find_gaps(
        session.connection(),
        symbol_id=symbol_id,
        timeframe="1m",
        start_ms=t0,
        end_ms=t0 + 60 * MINUTE,
    )
    assert gaps == [
        (t0, t0 + MINUTE),
        (t0 + 10 * MINUTE, t0 + 13 * MINUTE),
        (t0 + 40 * MINUTE, t0 + 41 * MINUTE),
        (t0 + 59 * MINUTE, t0 + 60 * MINUTE),
    ]


# Each example clears the table first, so sharing the session across examples is safe.
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    present=st.sets(st.integers(min_value=0, max_value=49), max_size=50),
    start=st.integers(min_value=0, max_value=49),
    length=st.integers(min_value=0, max_value=60),
)
def test_gaps_and_stored_times_partition_the_range(
    session: Session, symbol_id: int, present: set[int], start: int, length: int
) -> None:
    connection = session.connection()
    connection.execute(Candle.__table__.delete())
    base = synthetic_candles(50, seed=5)
    index = np.array(sorted(present), dtype=np.int64)
    chosen = type(base)(
        *(getattr(base, c)[index] for c in ("open_time", "open", "high", "low", "close", "volume"))
    )
    upsert_candles(connection, symbol_id=symbol_id, timeframe="1m", candles=chosen)
    t0 = int(base.open_time[0])
    lo, hi = t0 + start * MINUTE, t0 + (start + length) * MINUTE
    gaps = find_gaps(connection, symbol_id=symbol_id, timeframe="1m", start_ms=lo, end_ms=hi)
    missing = {t for a, b in gaps for t in range(a, b, MINUTE)}
    stored = {int(t) for t in base.open_time[index] if lo <= t < hi}
    assert missing.isdisjoint(stored)
    assert missing | stored == set(range(lo, hi, MINUTE))
    session.rollback()
