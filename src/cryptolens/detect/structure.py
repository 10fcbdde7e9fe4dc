"""Market structure from confirmed swings: breaks (BOS / CHoCH) and equal highs / lows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptolens.detect.candles import BoolArray, FloatArray, IntArray
from cryptolens.detect.swings import Swings
from cryptolens.detect.window import Window


@dataclass(frozen=True, slots=True)
class LastSwing:
    """The most recent confirmed swing of one side, carried between runs (real prices)."""

    level: float
    pivot: int  # global candle index
    broken: bool
    #: Most extreme price on this side strictly after the pivot, up to the last candle seen.
    extreme_since: float


@dataclass(frozen=True, slots=True, eq=False)
class SideBreaks:
    """Breaks of one side's swings, in time order (window indices, signed levels)."""

    index: IntArray
    level: FloatArray
    pivot: IntArray  # global index of the broken swing
    last: LastSwing | None


@dataclass(frozen=True, slots=True, eq=False)
class Pools:
    """Equal highs (or lows): consecutive swings within tolerance, both still intact."""

    formed: IntArray  # window index of the candle confirming the second swing
    level: FloatArray  # signed: the outer of the two levels
    first_pivot: IntArray  # global indices of the two swings
    second_pivot: IntArray
    outer_pivot: IntArray  # global index of the swing holding the outer level


def side_breaks(w: Window, sign: int, swings: Swings, carried: LastSwing | None) -> SideBreaks:
    """First close beyond the most recent confirmed swing, per swing (signed space).

    Swing k is the reference for candles after its confirmation up to and including the
    candle that confirms swing k+1; the first close beyond it is a break, after which it is
    spent. Levels carried from an earlier run continue from ``w.start``.
    """
    extreme, _, close, _ = w.signed(sign)
    levels = sign * swings.level
    n_new = len(swings)
    all_level = np.concatenate(([sign * carried.level if carried else np.nan], levels))
    testable = np.ones(n_new + 1, dtype=bool)
    testable[0] = carried is not None and not carried.broken
    # Slot 0 is the carried swing; slot k+1 is the k-th new swing, active after its confirm.
    mark = np.zeros(w.n + 1, dtype=np.int64)
    mark[swings.confirm + 1] = 1
    # New swings confirm at or after w.start, so counting marks from there is complete.
    slot = np.cumsum(mark[w.start : w.n])
    t = np.arange(w.start, w.n, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        hit = testable[slot] & (close[w.start :] > all_level[slot])
    hits = np.flatnonzero(hit)
    hit_slot = slot[hits]
    first = np.ones(hits.shape[0], dtype=bool)
    first[1:] = hit_slot[1:] != hit_slot[:-1]
    index = t[hits[first]]
    broke_slot = hit_slot[first]
    pivots = np.concatenate(([carried.pivot if carried else -1], w.base + swings.pivot))
    last_slot = n_new if n_new else 0
    last: LastSwing | None
    if n_new == 0 and carried is None:
        last = None
    else:
        broken = bool(broke_slot.shape[0] and broke_slot[-1] == last_slot) or (
            n_new == 0 and carried is not None and carried.broken
        )
        if n_new:
            p = int(swings.pivot[-1])
            after = extreme[p + 1 :]
            ext = float(after.max()) if after.shape[0] else -np.inf
            last = LastSwing(float(swings.level[-1]), w.base + p, broken, sign * ext)
        else:
            assert carried is not None
            tail = extreme[w.start :]
            ext = max(sign * carried.extreme_since, float(tail.max()) if tail.shape[0] else -np.inf)
            last = LastSwing(carried.level, carried.pivot, broken, sign * ext)
    return SideBreaks(index=index, level=all_level[broke_slot], pivot=pivots[broke_slot], last=last)


def equal_pools(
    w: Window, sign: int, swings: Swings, carried: LastSwing | None, tolerance_atr: float
) -> Pools:
    """Equal highs/lows: each new swing against the previous one of its side.

    They pool when their levels differ by at most ``tolerance_atr`` x ATR (at the confirming
    candle) and no price went beyond the outer level between the first pivot and the second
    confirmation, i.e. the liquidity above (below) both is still resting there.
    """
    extreme = w.signed(sign)[0]
    levels = sign * swings.level
    n_new = len(swings)
    if n_new == 0 or (n_new == 1 and carried is None):
        empty_i = np.empty(0, dtype=np.int64)
        return Pools(empty_i, np.empty(0), empty_i, empty_i, empty_i)
    prev_level = np.concatenate(([sign * carried.level if carried else np.nan], levels[:-1]))
    prev_pivot = np.concatenate(([carried.pivot if carried else -1], w.base + swings.pivot[:-1]))
    confirm = swings.confirm
    outer = np.fmax(prev_level, levels)
    with np.errstate(invalid="ignore"):
        ok: BoolArray = np.abs(levels - prev_level) <= tolerance_atr * w.atr[confirm]
    # Intact check only for the few level pairs that are close enough: the extreme strictly
    # after the previous pivot up to the confirming candle, inclusive.
    cand = np.flatnonzero(ok)
    lo = np.where(cand == 0, w.start, swings.pivot[np.maximum(cand - 1, 0)] + 1)
    beyond = _interval_max(extreme, lo, confirm[cand] + 1)
    if carried is not None and cand.shape[0] and cand[0] == 0:
        beyond[0] = max(float(beyond[0]), sign * carried.extreme_since)
    ok[cand] = beyond <= outer[cand]
    new_pivot = w.base + swings.pivot
    outer_pivot = np.where(prev_level >= levels, prev_pivot, new_pivot)
    return Pools(
        formed=confirm[ok],
        level=outer[ok],
        first_pivot=prev_pivot[ok],
        second_pivot=new_pivot[ok],
        outer_pivot=outer_pivot[ok],
    )


def _interval_max(values: FloatArray, start: IntArray, stop: IntArray) -> FloatArray:
    """max(values[start:stop]) for non-empty, possibly overlapping intervals."""
    if start.shape[0] == 0:
        return np.empty(0)
    padded = np.append(values, -np.inf)
    # reduceat over (start, stop) pairs: every even slot is exactly one requested interval.
    bounds = np.column_stack((start, stop)).ravel()
    return np.maximum.reduceat(padded, bounds)[::2]


def classify_breaks(
    bull_index: IntArray, bear_index: IntArray, last_bullish: bool | None
) -> tuple[BoolArray, BoolArray, bool | None]:
    """CHoCH flags for bullish and bearish breaks, and the direction of the last break.

    A break against the direction of the previous break is a change of character; one in
    the same direction (or the very first) is a break of structure. On the rare candle that
    closes beyond both swings at once, the bullish break is taken first.
    """
    n_bull = bull_index.shape[0]
    idx = np.concatenate((bull_index, bear_index))
    bullish = np.concatenate((np.ones(n_bull, dtype=bool), np.zeros(bear_index.shape[0], bool)))
    order = np.lexsort((~bullish, idx))
    seq = bullish[order]
    if seq.shape[0] == 0:
        return np.zeros(0, bool), np.zeros(0, bool), last_bullish
    prev = np.empty(seq.shape[0], dtype=np.int8)
    prev[0] = -1 if last_bullish is None else int(last_bullish)
    prev[1:] = seq[:-1]
    choch_seq = (prev >= 0) & (prev != seq)
    choch = np.empty_like(choch_seq)
    choch[order] = choch_seq
    return choch[:n_bull], choch[n_bull:], bool(seq[-1])
