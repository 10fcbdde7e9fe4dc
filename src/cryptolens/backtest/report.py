"""A backtest's report: its equity marked to market at every base bar, the metrics of
``metrics.py`` on that curve, and plain data (JSON-ready dicts) for the CLI, storage and the
API.

The engine's own curve is realised equity after each fill. Metrics want one point per bar,
valued as an account would be: realised equity as of the bar's close plus every open
position's unrealised P&L at that close (the part of the position still open after its
partial exits, against its entry price). The first point is the start of the first bar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from cryptolens.backtest.engine import BacktestResult, BacktestTrade
from cryptolens.backtest.metrics import Metrics, compute_metrics
from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError

#: Points kept of the equity and drawdown curves for a chart.
CHART_POINTS = 2_000


@dataclass(frozen=True, slots=True)
class BarEquity:
    """Equity at the start of the first bar, then at every bar's close."""

    time: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]
    #: The symbol's price at the same points (first open, then closes): buy and hold.
    price: npt.NDArray[np.float64]


def bar_equity(result: BacktestResult, symbol: str, base: Candles, bar_ms: int) -> BarEquity:
    """The account's value at every close of ``symbol``'s base candles (one-symbol runs)."""
    if len(base.open_time) == 0:
        raise ValidationError("no candles to value the account on")
    closes = base.open_time.astype(np.int64) + bar_ms
    time = np.concatenate(([int(base.open_time[0])], closes)).astype(np.int64)
    price = np.concatenate(([float(base.open[0])], base.close)).astype(np.float64)
    realised = result.equity
    at = np.searchsorted(realised.time, time, side="right") - 1
    equity = realised.equity[np.maximum(at, 0)].astype(np.float64)
    for trade in result.trades:
        if trade.symbol == symbol:
            _add_open_pnl(equity, time, price, trade)
    return BarEquity(time, equity, price)


def _add_open_pnl(
    equity: npt.NDArray[np.float64],
    time: npt.NDArray[np.int64],
    price: npt.NDArray[np.float64],
    trade: BacktestTrade,
) -> None:
    sign = 1.0 if trade.direction is Direction.BULLISH else -1.0
    held, since = 1.0, trade.entry_time
    for leg in trade.exits:
        lo, hi = np.searchsorted(time, [since, leg.time], side="left")
        if hi > lo and held > 0:
            equity[lo:hi] += sign * (price[lo:hi] - trade.entry_price) * trade.size * held
        held -= leg.fraction
        since = leg.time


def report_metrics(result: BacktestResult, curve: BarEquity, bar_ms: int) -> Metrics:
    return compute_metrics(
        curve.time,
        curve.equity,
        result.trades,
        initial_capital=result.execution.initial_equity,
        bar_ms=bar_ms,
        buy_and_hold_prices=curve.price,
        ambiguous=result.ambiguous,
    )


def iso(ms: int) -> str:
    """Epoch ms as an ISO 8601 UTC text (``2018-01-01T04:00:00Z``)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def trade_dict(trade: BacktestTrade) -> dict[str, Any]:
    """One trade as plain data: times in ISO UTC, prices and money as floats."""
    return {
        "symbol": trade.symbol,
        "direction": trade.direction.value,
        "signal_at": iso(trade.signal_at),
        "entry_time": iso(trade.entry_time),
        "entry_price": trade.entry_price,
        "stop": trade.stop,
        "exit_time": iso(trade.exit_time),
        "exit_price": trade.exit_price,
        "size": trade.size,
        "fees": trade.fees,
        "pnl": trade.pnl,
        "r_multiple": trade.r_multiple,
        "exit_reason": trade.exit_reason.value,
        "ambiguous": trade.ambiguous,
        "resolved_by_finer": trade.resolved_by_finer,
        "exits": [
            {"time": iso(e.time), "price": e.price, "fraction": e.fraction, "reason": e.reason}
            for e in trade.exits
        ],
    }


def metrics_dict(metrics: Metrics) -> dict[str, Any]:
    return dataclasses.asdict(metrics)


def chart_points(curve: BarEquity, limit: int = CHART_POINTS) -> dict[str, list[Any]]:
    """The equity and drawdown curves thinned to at most ``limit`` points for a chart (every
    k-th point, the lowest drawdown point and the last always kept), times in epoch seconds."""
    n = len(curve.time)
    peak = np.maximum.accumulate(curve.equity)
    drawdown = np.where(peak > 0, curve.equity / np.where(peak > 0, peak, 1.0) - 1.0, -1.0)
    keep = np.arange(0, n, max(1, -(-n // max(1, limit - 2))))
    keep = np.union1d(keep, [int(np.argmin(drawdown)), n - 1])
    return {
        "time": (curve.time[keep] // 1000).tolist(),
        "equity": [round(float(v), 6) for v in curve.equity[keep]],
        "drawdown": [round(float(v), 6) for v in drawdown[keep]],
    }


def summary(result: BacktestResult, metrics: Metrics) -> Mapping[str, Any]:
    """What a report adds to the metrics: counts the engine keeps."""
    return {
        "skipped": result.skipped,
        "signals": sum(len(r.signals) for r in result.replays.values()),
        "zones": sum(r.zones for r in result.replays.values()),
        "final_equity": metrics.final_equity,
    }
