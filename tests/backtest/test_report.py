from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cryptolens.backtest.engine import BacktestResult, BacktestTrade, EquityCurve
from cryptolens.backtest.execution import ExecutionModel
from cryptolens.backtest.fills import Exit, ExitReason
from cryptolens.backtest.report import BarEquity, bar_equity, chart_points, iso, trade_dict
from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction

H = 3_600_000
T0 = 1_514_764_800_000  # 2018-01-01 00:00 UTC


def _candles(closes: list[float]) -> Candles:
    n = len(closes)
    c = np.array(closes, dtype=np.float64)
    opens = np.concatenate(([c[0]], c[:-1]))
    return Candles(T0 + H * np.arange(n, dtype=np.int64), opens, c + 1, c - 1, c, np.ones(n))


def _trade() -> BacktestTrade:
    # Long 2 at 100 half an hour into the first bar; half out at 120, half at 130.
    exits = (
        Exit(T0 + 2 * H + H // 2, 120.0, 0.5, ExitReason.TP1),
        Exit(T0 + 3 * H + H // 2, 130.0, 0.5, ExitReason.TP2),
    )
    return BacktestTrade(
        symbol="BTC/USDT",
        direction=Direction.BULLISH,
        signal_at=T0,
        entry_time=T0 + H // 2,
        entry_price=100.0,
        stop=90.0,
        exit_time=exits[-1].time,
        exit_price=125.0,
        size=2.0,
        fees=0.0,
        pnl=50.0,
        r_multiple=2.5,
        exit_reason=ExitReason.TP2,
        exits=exits,
        ambiguous=False,
        resolved_by_finer=False,
    )


def test_equity_is_realised_plus_the_open_part_of_each_position_at_every_close() -> None:
    trade = _trade()
    realised = EquityCurve(
        np.array([T0, trade.entry_time, trade.exits[0].time, trade.exits[1].time]),
        np.array([1000.0, 1000.0, 1020.0, 1050.0]),
    )
    result = BacktestResult({}, ExecutionModel(initial_equity=1000.0), (trade,), realised, 0)
    curve = bar_equity(result, "BTC/USDT", _candles([100, 110, 120, 130]), H)
    assert curve.time.tolist() == [T0 + k * H for k in range(5)]
    assert curve.price.tolist() == [100, 100, 110, 120, 130]
    # t0: before the entry; then open 2 x (close - 100); after TP1 only half is open.
    assert curve.equity.tolist() == [1000, 1000, 1020, 1040, 1050]


def test_a_short_gains_when_the_price_falls() -> None:
    trade = _trade()
    short = dataclasses.replace(trade, direction=Direction.BEARISH)
    realised = EquityCurve(np.array([T0]), np.array([1000.0]))
    result = BacktestResult({}, ExecutionModel(initial_equity=1000.0), (short,), realised, 0)
    curve = bar_equity(result, "BTC/USDT", _candles([100, 90, 80, 70]), H)
    # Realised equity is left at the start: only the open part moves it (20, then half of 40).
    assert curve.equity.tolist() == [1000, 1000, 1020, 1020, 1000]


def test_the_chart_keeps_the_last_point_and_the_deepest_drawdown() -> None:
    n = 10_001
    equity = np.full(n, 100.0)
    equity[4_321] = 50.0  # a one-bar crash between sampled points
    curve = BarEquity(T0 + H * np.arange(n, dtype=np.int64), equity, equity)
    points = chart_points(curve, limit=100)
    assert len(points["time"]) <= 100
    assert points["time"][-1] == (T0 + H * (n - 1)) // 1000
    assert min(points["drawdown"]) == pytest.approx(-0.5)


def test_a_trade_as_plain_data() -> None:
    data = trade_dict(_trade())
    assert data["entry_time"] == "2018-01-01T00:30:00Z"
    assert data["exit_reason"] == "tp2"
    assert [e["reason"] for e in data["exits"]] == ["tp1", "tp2"]
    assert iso(T0) == "2018-01-01T00:00:00Z"
