"""The signal track record: trades, win rate, average R and expectancy, grouped in SQL.

A *trade* is a signal whose outcome is ``tp1``, ``tp2``, ``tp3``, ``stop`` or ``timeout``; a
signal whose entry was never reached (``unfilled``) is counted separately and is not a trade.
A trade is a *win* when its ``r_multiple`` is above 0 and a loss otherwise (a trade without a
recorded R counts as 0 R, so as a loss).

``expectancy = win_rate * avg_win_r + (1 - win_rate) * avg_loss_r``. Since
``win_rate = wins / trades``, this is ``(Σ win R + Σ loss R) / trades``: the mean R per trade
(``avg_r``). A side with no trades contributes 0 to the sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from cryptolens.db.models import Signal, Symbol
from cryptolens.domain.enums import Direction, SignalOutcome
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import parse_timeframes

GroupKey = Literal["symbol", "timeframes", "direction"]
GROUP_KEYS: tuple[GroupKey, ...] = ("symbol", "timeframes", "direction")

TRADE_OUTCOMES = (
    SignalOutcome.TP1.value,
    SignalOutcome.TP2.value,
    SignalOutcome.TP3.value,
    SignalOutcome.STOP.value,
    SignalOutcome.TIMEOUT.value,
)


@dataclass(frozen=True, slots=True)
class TrackRecordRow:
    """One group's record; the group fields not grouped on are None."""

    symbol: str | None
    timeframes: str | None
    direction: str | None
    trades: int
    wins: int
    losses: int
    unfilled: int
    #: None when there are no trades (nothing to divide by).
    win_rate: float | None
    avg_r: float | None
    avg_win_r: float | None
    avg_loss_r: float | None
    expectancy: float | None


def _ratio(total: float, count: int) -> float | None:
    return total / count if count else None


def _measures() -> tuple[Any, ...]:
    """trades, wins, unfilled, Σ R, Σ win R, Σ loss R: the sums every group is read from."""
    is_trade = Signal.outcome.in_(TRADE_OUTCOMES)
    r = func.coalesce(Signal.r_multiple, 0.0)
    is_win = is_trade & (r > 0)
    is_loss = is_trade & (r <= 0)
    return (
        func.sum(case((is_trade, 1), else_=0)),
        func.sum(case((is_win, 1), else_=0)),
        func.sum(case((Signal.outcome == SignalOutcome.UNFILLED.value, 1), else_=0)),
        func.sum(case((is_trade, r), else_=0.0)),
        func.sum(case((is_win, r), else_=0.0)),
        func.sum(case((is_loss, r), else_=0.0)),
    )


def _conditions(
    *,
    symbol_id: int | None,
    timeframes: str | Sequence[str] | None,
    direction: Direction | str | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Signal.outcome.in_((*TRADE_OUTCOMES, SignalOutcome.UNFILLED.value))
    ]
    if symbol_id is not None:
        conditions.append(Signal.symbol_id == symbol_id)
    if timeframes is not None:
        names = timeframes.split(",") if isinstance(timeframes, str) else timeframes
        conditions.append(Signal.timeframes == ",".join(parse_timeframes(names)))
    if direction is not None:
        try:
            conditions.append(Signal.direction == Direction(direction).value)
        except ValueError:
            message = f"direction must be bullish or bearish (got {direction!r})"
            raise ValidationError(message) from None
    return conditions


def _record(labels: dict[GroupKey, Any], sums: Sequence[Any]) -> TrackRecordRow:
    """One group's row from its labels and the ``_measures`` sums."""
    trades, wins, unfilled = int(sums[0] or 0), int(sums[1] or 0), int(sums[2] or 0)
    sum_r, sum_win, sum_loss = (float(value or 0) for value in sums[3:])
    losses = trades - wins
    win_rate = _ratio(wins, trades)
    avg_win = _ratio(sum_win, wins)
    avg_loss = _ratio(sum_loss, losses)
    expectancy = (
        None
        if win_rate is None
        else win_rate * (avg_win or 0.0) + (1 - win_rate) * (avg_loss or 0.0)
    )
    return TrackRecordRow(
        symbol=labels.get("symbol"),
        timeframes=labels.get("timeframes"),
        direction=labels.get("direction"),
        trades=trades,
        wins=wins,
        losses=losses,
        unfilled=unfilled,
        win_rate=win_rate,
        avg_r=_ratio(sum_r, trades),
        avg_win_r=avg_win,
        avg_loss_r=avg_loss,
        expectancy=expectancy,
    )


def track_record(
    session: Session,
    *,
    symbol_id: int | None = None,
    timeframes: str | Sequence[str] | None = None,
    direction: Direction | str | None = None,
    group_by: Sequence[GroupKey] = GROUP_KEYS,
) -> list[TrackRecordRow]:
    """The record per group, in one grouped query; groups without trades or unfilled signals
    do not appear. ``timeframes`` selects signals formed on exactly that set of timeframes
    (``"1h,4h"`` or ``("4h", "1h")``); raises ValidationError on an unknown group key,
    timeframe or direction."""
    unknown = [key for key in group_by if key not in GROUP_KEYS]
    if unknown:
        raise ValidationError(f"group_by accepts {', '.join(GROUP_KEYS)} (got {unknown})")
    keys: dict[GroupKey, Any] = {
        "symbol": Symbol.symbol,
        "timeframes": Signal.timeframes,
        "direction": Signal.direction,
    }
    grouped = [keys[key] for key in group_by]
    conditions = _conditions(symbol_id=symbol_id, timeframes=timeframes, direction=direction)
    query = (
        select(*grouped, *_measures())
        .join(Symbol, Symbol.id == Signal.symbol_id)
        .where(*conditions)
        .group_by(*grouped)
        .order_by(*grouped)
    )
    return [
        _record(dict(zip(group_by, row[: len(grouped)], strict=True)), row[len(grouped) :])
        for row in session.execute(query).all()
    ]
