"""Outcome tracking as it was before issue 16: a fold of immutable ``Trade`` values, one
``dataclasses.replace`` per change. Kept as the reference the mutable fold of
``signals.outcome.track`` must equal exactly (tests/signals/test_outcome_reference.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cryptolens.detect.candles import Candles
from cryptolens.domain.enums import Direction, SignalOutcome, SignalStatus
from cryptolens.signals.outcome import PARTS, FinerCandles, Trade

_BLOCK = 64
_TARGET_OUTCOMES = (SignalOutcome.TP1, SignalOutcome.TP2, SignalOutcome.TP3)


def reference_track(
    trade: Trade, candles: Candles, step_ms: int, finer: FinerCandles | None = None
) -> Trade:
    """Fold the candles opening at or after the signal (and after ``tracked_through``)."""
    if not trade.is_open or len(candles) == 0:
        return trade
    first = max(trade.created_at, (trade.tracked_through or trade.created_at - 1) + 1)
    start = int(np.searchsorted(candles.open_time, first, side="left"))
    # Most trades end within a few candles: convert the columns a block at a time.
    for begin in range(start, len(candles), _BLOCK):
        block = slice(begin, begin + _BLOCK)
        rows = zip(
            candles.open_time[block].tolist(),
            candles.high[block].tolist(),
            candles.low[block].tolist(),
            candles.close[block].tolist(),
            strict=True,
        )
        for open_time, high, low, close in rows:
            trade = _candle(trade, open_time, open_time + step_ms, high, low, close, finer)
            if not trade.is_open:
                return trade
    return trade


def _candle(
    t: Trade,
    open_time: int,
    close_time: int,
    high: float,
    low: float,
    close: float,
    finer: FinerCandles | None,
) -> Trade:
    bullish = t.direction is Direction.BULLISH
    # Signed space: "favourable" is upward for both directions.
    bar = _Bar(open_time, close_time, *((high, low) if bullish else (-low, -high)), close)
    sign = 1.0 if bullish else -1.0
    if t.status is SignalStatus.PENDING:
        return _pending(t, bar, sign, finer)
    return _triggered(t, bar, sign, finer)


@dataclass(frozen=True, slots=True)
class _Bar:
    """One candle in signed space: ``fav`` is the favourable extreme, ``adv`` the adverse one."""

    open_time: int
    close_time: int
    fav: float
    adv: float
    close: float


def _pending(t: Trade, bar: _Bar, sign: float, finer: FinerCandles | None) -> Trade:
    """A candle while the entry order rests: expiry, no fill, or the fill (and what follows)."""
    if bar.open_time >= t.expires_at:
        return replace(
            t, status=SignalStatus.EXPIRED, outcome=SignalOutcome.UNFILLED, closed_at=t.expires_at
        )
    done = replace(t, tracked_through=bar.open_time)
    if bar.adv > sign * t.entry:
        return done
    if bar.fav >= sign * t.targets[0] and finer is not None:
        resolved = _resolve(t, bar.open_time, bar.close_time, finer)
        if resolved is not None:
            return replace(resolved, tracked_through=bar.open_time)
    done = replace(done, status=SignalStatus.TRIGGERED, triggered_at=bar.close_time)
    if bar.adv <= sign * t.stop:
        return _close(done, bar.close_time, t.stop)
    return _timeout(done, bar.close_time, bar.close)


def _triggered(t: Trade, bar: _Bar, sign: float, finer: FinerCandles | None) -> Trade:
    """A candle of a filled trade: stop (break-even after the first target), targets, timeout."""
    done = replace(t, tracked_through=bar.open_time)
    active_stop = t.stop if t.targets_hit == 0 else t.entry
    stop_hit = bar.adv <= sign * active_stop
    new_hits = sum(1 for level in t.targets[t.targets_hit :] if bar.fav >= sign * level)
    if stop_hit and new_hits and finer is not None:
        resolved = _resolve(t, bar.open_time, bar.close_time, finer)
        if resolved is not None:
            return replace(resolved, tracked_through=bar.open_time)
    if stop_hit:
        return _close(done, bar.close_time, active_stop)
    if new_hits:
        done = replace(done, targets_hit=t.targets_hit + new_hits)
        if done.targets_hit == PARTS:
            return _close(done, bar.close_time, t.targets[-1])
    return _timeout(done, bar.close_time, bar.close)


def _resolve(t: Trade, open_time: int, close_time: int, finer: FinerCandles) -> Trade | None:
    found = finer(open_time, close_time - open_time)
    if found is None or len(found[0]) == 0:
        return None
    inner, step = found
    return reference_track(replace(t, tracked_through=open_time - 1), inner, step, None)


def _realised(t: Trade) -> float:
    return sum(t.r_at(level) for level in t.targets[: t.targets_hit]) / PARTS


def _close(t: Trade, when: int, exit_price: float) -> Trade:
    remaining = (PARTS - t.targets_hit) / PARTS
    r = _realised(t) + remaining * t.r_at(exit_price)
    outcome = _TARGET_OUTCOMES[t.targets_hit - 1] if t.targets_hit else SignalOutcome.STOP
    return replace(t, status=SignalStatus.CLOSED, outcome=outcome, closed_at=when, r_multiple=r)


def _timeout(t: Trade, close_time: int, close: float) -> Trade:
    assert t.triggered_at is not None
    if close_time - t.triggered_at < t.max_hold_ms:
        return t
    closed = _close(t, close_time, close)
    if t.targets_hit == 0:
        closed = replace(closed, outcome=SignalOutcome.TIMEOUT)
    return closed
