"""Outcome tracking inside a scan: the same-candle rule uses finer stored candles if any."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.candles import upsert_candles
from cryptolens.db.models import Signal
from cryptolens.detect import Candles
from cryptolens.services.scanning.scan import scan_stored
from tests.builders.db import add_symbol

M = 60_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00Z
FIVE = 5 * M


def _candles(start: int, step: int, rows: list[tuple[float, float, float, float]]) -> Candles:
    o, h, lo, c = (np.array(col, dtype=np.float64) for col in zip(*rows, strict=True))
    times = start + step * np.arange(len(rows), dtype=np.int64)
    return Candles(times, o, h, lo, c, np.ones(len(rows)))


def _store(engine: Engine, symbol_id: int, timeframe: str, candles: Candles) -> None:
    with engine.begin() as connection:
        upsert_candles(connection, symbol_id=symbol_id, timeframe=timeframe, candles=candles)


def _pending_long(engine: Engine, symbol_id: int) -> int:
    """A long from 100 (stop 90, targets 110/120/130), signalled at T0."""
    with Session(engine) as session, session.begin():
        signal = Signal(
            symbol_id=symbol_id,
            direction="bullish",
            confluence=2,
            score=0.5,
            timeframes="5m,15m",
            entry=100.0,
            stop=90.0,
            target_1=110.0,
            target_2=120.0,
            target_3=130.0,
            risk_reward=3.0,
            status="pending",
            created_at=T0,
            expires_at=T0 + 86_400_000,
        )
        session.add(signal)
        session.flush()
        return signal.id


@pytest.mark.parametrize(
    ("minutes", "outcome", "r"),
    [
        # Up through the first target, then down through break-even.
        ([(103, 115, 102, 112), (112, 112, 99, 99), (99, 99, 85, 86)], "tp1", 1 / 3),
        # Down through the stop first.
        ([(103, 103, 85, 86), (86, 115, 86, 112), (112, 112, 99, 99)], "stop", -1.0),
    ],
)
def test_a_candle_through_stop_and_target_is_settled_by_stored_minutes(
    scan_engine: Engine,
    scan_settings: Settings,
    minutes: list[tuple[float, float, float, float]],
    outcome: str,
    r: float,
) -> None:
    settings = scan_settings.model_copy(
        update={"base_timeframe": "5m", "timeframes": ("5m", "15m")}
    )
    sid = add_symbol(scan_engine, "ONE/USD")
    # 5m: the entry candle, then one candle reaching both 115 and 85.
    _store(scan_engine, sid, "5m", _candles(T0, FIVE, [(104, 105, 99, 103), (103, 115, 85, 86)]))
    # The second 5m candle's minutes: three given, two flat ones to complete it.
    rows = [*minutes, (86, 86, 86, 86), (86, 86, 86, 86)]
    _store(scan_engine, sid, "1m", _candles(T0 + FIVE, M, rows))
    signal_id = _pending_long(scan_engine, sid)
    scan_stored(scan_engine, settings, symbol_id=sid, symbol="ONE/USD")
    with Session(scan_engine) as session:
        signal = session.scalars(select(Signal).where(Signal.id == signal_id)).one()
    assert signal.status == "closed"
    assert signal.outcome == outcome
    assert signal.r_multiple == pytest.approx(r)


def test_without_finer_candles_the_stop_counts_first(
    scan_engine: Engine, scan_settings: Settings
) -> None:
    settings = scan_settings.model_copy(
        update={"base_timeframe": "5m", "timeframes": ("5m", "15m")}
    )
    sid = add_symbol(scan_engine, "TWO/USD")
    _store(scan_engine, sid, "5m", _candles(T0, FIVE, [(104, 105, 99, 103), (103, 115, 85, 86)]))
    signal_id = _pending_long(scan_engine, sid)
    scan_stored(scan_engine, settings, symbol_id=sid, symbol="TWO/USD")
    with Session(scan_engine) as session:
        signal = session.scalars(select(Signal).where(Signal.id == signal_id)).one()
    assert signal.outcome == "stop"
    assert signal.r_multiple == pytest.approx(-1.0)
    assert signal.closed_at == T0 + 2 * FIVE
