"""What the backtest pages show beside a stored run: the symbols a run can be asked for with
their stored range (the form's choices and default dates), the form's default parameter
values, and the run's price chart (candles of its range, thinned to at most
``MAX_CHART_BARS`` by choosing the timeframe, with each trade's entry and exit marked)."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.backtest.execution import DEFAULT_EXECUTION, ExecutionModel
from cryptolens.backtest.params import HOUR_MS, Value
from cryptolens.config import Settings
from cryptolens.db.candles import load_candles
from cryptolens.db.models import Candle, Symbol
from cryptolens.domain.timeframes import datetime_to_ms, timeframe_ms
from cryptolens.services.backtests.store import RunView
from cryptolens.signals import SignalParams

#: Bars at most on a run's price chart.
MAX_CHART_BARS = 2_000
#: The form's default range: the newest days of a symbol's stored candles.
DEFAULT_DAYS = 90


@dataclass(frozen=True, slots=True)
class StoredRange:
    """A watched symbol and the days its base candles cover (``first`` to ``last``, UTC)."""

    symbol: str
    first: date
    last: date

    def default_since(self, days: int = DEFAULT_DAYS) -> date:
        return max(self.first, self.last - timedelta(days=days - 1))


def stored_ranges(session: Session, settings: Settings) -> list[StoredRange]:
    """The exchange's active symbols that have stored base candles, by name."""
    rows = session.execute(
        select(Symbol.symbol, func.min(Candle.open_time), func.max(Candle.open_time))
        .join(Candle, Candle.symbol_id == Symbol.id)
        .where(
            Symbol.exchange == settings.exchange_id,
            Symbol.active.is_(True),
            Candle.timeframe == settings.base_timeframe,
        )
        .group_by(Symbol.symbol)
        .order_by(Symbol.symbol)
    ).all()
    return [StoredRange(str(name), _day(int(lo)), _day(int(hi))) for name, lo, hi in rows]


def _day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def default_values(
    signals: SignalParams, execution: ExecutionModel = DEFAULT_EXECUTION
) -> dict[str, Value]:
    """The value each named parameter has when a run does not set it."""
    r1, r2, r3 = signals.targets_r
    return {
        "min_confluence": signals.min_confluence,
        "require_higher_timeframe": signals.require_higher_timeframe,
        "cooldown_hours": signals.cooldown_ms / HOUR_MS,
        "proximity": signals.proximity,
        "stop_atr": signals.stop_atr,
        "stop_min_fraction": signals.stop_min_fraction,
        "tp1_r": r1,
        "tp2_r": r2,
        "tp3_r": r3,
        "entry_ttl_hours": signals.entry_ttl_ms / HOUR_MS,
        "max_hold_hours": signals.max_hold_ms / HOUR_MS,
        "initial_equity": execution.initial_equity,
        "maker_fee_bps": execution.maker_fee_bps,
        "taker_fee_bps": execution.taker_fee_bps,
        "risk_pct": execution.risk_pct,
        "max_positions": execution.max_positions,
        "max_positions_per_symbol": execution.max_positions_per_symbol,
        "tp1_fraction": execution.exit_fractions[0],
        "tp2_fraction": execution.exit_fractions[1],
        "break_even": execution.break_even,
    }


def chart_timeframe(timeframes: Sequence[str], span_ms: int, limit: int = MAX_CHART_BARS) -> str:
    """The finest of ``timeframes`` that shows ``span_ms`` in at most ``limit`` bars (the
    coarsest when none does)."""
    ordered = sorted(timeframes, key=timeframe_ms)
    for timeframe in ordered:
        if -(-span_ms // timeframe_ms(timeframe)) <= limit:
            return timeframe
    return ordered[-1]


@dataclass(frozen=True, slots=True)
class PriceChart:
    """Candles (open times in epoch seconds) and trade markers for lightweight-charts."""

    timeframe: str
    bars: list[dict[str, float | int]]
    markers: list[dict[str, Any]]


def price_chart(session: Session, settings: Settings, view: RunView) -> PriceChart:
    """The run's range on the finest stored timeframe that fits ``MAX_CHART_BARS``, with
    each trade's entry and exit on the bar that holds it."""
    since, until = datetime_to_ms(view.since), datetime_to_ms(view.until)
    timeframe = chart_timeframe(settings.timeframes, until - since)
    symbol_id = session.scalar(
        select(Symbol.id).where(
            Symbol.exchange == settings.exchange_id, Symbol.symbol == view.symbol
        )
    )
    if symbol_id is None:
        return PriceChart(timeframe, [], [])
    candles = load_candles(
        session.connection(),
        symbol_id=symbol_id,
        timeframe=timeframe,
        start_ms=since - since % timeframe_ms(timeframe),
        end_ms=until,
        limit=MAX_CHART_BARS,
    )
    times = [int(t) // 1000 for t in candles.open_time]
    bars: list[dict[str, float | int]] = [
        {
            "time": t,
            "open": float(candles.open[i]),
            "high": float(candles.high[i]),
            "low": float(candles.low[i]),
            "close": float(candles.close[i]),
        }
        for i, t in enumerate(times)
    ]
    return PriceChart(timeframe, bars, trade_markers(view.trades or [], times))


def trade_markers(
    trades: Sequence[Mapping[str, Any]], bar_times: Sequence[int]
) -> list[dict[str, Any]]:
    """An arrow at each trade's entry (numbered as the trades table) and a circle at its
    exit (green with a profit), each on the bar (open time
    in seconds, ascending ``bar_times``) that holds it, sorted by time; trades outside the
    bars are left out."""
    markers: list[dict[str, Any]] = []
    for number, trade in enumerate(trades, start=1):
        long = trade["direction"] == "bullish"
        entry = _bar(bar_times, _seconds(trade["entry_time"]))
        exit_ = _bar(bar_times, _seconds(trade["exit_time"]))
        if entry is not None:
            markers.append(
                {
                    "time": entry,
                    "position": "belowBar" if long else "aboveBar",
                    "shape": "arrowUp" if long else "arrowDown",
                    "color": "#4fa3ff",
                    "text": f"#{number}",
                }
            )
        if exit_ is not None:
            won = float(trade["pnl"]) > 0
            markers.append(
                {
                    "time": exit_,
                    "position": "aboveBar" if long else "belowBar",
                    "shape": "circle",
                    "color": "#26a69a" if won else "#ef5350",
                }
            )
    return sorted(markers, key=lambda m: int(m["time"]))


def _seconds(iso_text: str) -> int:
    return int(datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp())


def _bar(bar_times: Sequence[int], seconds: int) -> int | None:
    at = bisect.bisect_right(bar_times, seconds) - 1
    return bar_times[at] if at >= 0 else None
