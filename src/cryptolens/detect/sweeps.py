"""Liquidity sweeps: a wick through resting liquidity that closes back inside."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptolens.detect.candles import BoolArray, FloatArray, IntArray
from cryptolens.detect.structure import Pools
from cryptolens.detect.swings import Swings
from cryptolens.detect.window import Window


@dataclass(frozen=True, slots=True)
class IntactLevels:
    """Swing levels of one side that no wick has traded through yet (real prices)."""

    level: tuple[float, ...] = ()
    pivot: tuple[int, ...] = ()
    pooled: tuple[bool, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class SideSweeps:
    """One row per sweeping candle of one side (window index, signed prices)."""

    index: IntArray
    level: FloatArray  # the outermost level swept on that candle
    levels_swept: IntArray
    pooled: BoolArray
    remaining: IntactLevels


def side_sweeps(
    w: Window, sign: int, swings: Swings, pools: Pools, carried: IntactLevels
) -> SideSweeps:
    """Sweeps of one side's liquidity (signed space: +1 sweeps of highs, -1 of lows).

    Every confirmed swing level rests until the first candle whose wick trades beyond it.
    If that candle closes back at or inside the level, the level was swept; if it closes
    beyond, the level was simply broken. All levels swept by one candle form one sweep whose
    level is the outermost of them; a level that is the outer edge of an equal highs/lows
    pool counts as pooled liquidity (pools are always known before their level is taken).
    """
    close = w.signed(sign)[2]
    n_old = len(carried.level)
    level = np.concatenate(
        (sign * np.asarray(carried.level, dtype=np.float64), sign * swings.level)
    )
    pivot = np.concatenate((np.asarray(carried.pivot, dtype=np.int64), w.base + swings.pivot))
    pooled = np.concatenate((np.asarray(carried.pooled, dtype=bool), np.zeros(len(swings), bool)))
    pooled |= np.isin(pivot, pools.outer_pivot)
    begin = np.concatenate((np.full(n_old, w.start, dtype=np.int64), swings.confirm + 1))
    stop = np.full(begin.shape[0], w.n, dtype=np.int64)
    taken = w.table(sign).first_reaching(begin, stop, level, strict=True)
    alive = taken >= w.n
    hit = np.flatnonzero(~alive)
    swept = hit[close[taken[hit]] <= level[hit]]
    # Group the swept levels by candle, outermost level first within each candle.
    order = np.lexsort((-level[swept], taken[swept]))
    rows = swept[order]
    at = taken[rows]
    head = np.ones(rows.shape[0], dtype=bool)
    head[1:] = at[1:] != at[:-1]
    starts = np.flatnonzero(head)
    counts = np.diff(np.append(starts, rows.shape[0]))
    any_pooled = (
        np.logical_or.reduceat(pooled[rows], starts) if starts.shape[0] else np.zeros(0, bool)
    )
    remaining = IntactLevels(
        level=tuple((sign * level[alive]).tolist()),
        pivot=tuple(pivot[alive].tolist()),
        pooled=tuple(pooled[alive].tolist()),
    )
    return SideSweeps(
        index=at[head],
        level=level[rows[head]],
        levels_swept=counts.astype(np.int64),
        pooled=any_pooled.astype(bool),
        remaining=remaining,
    )
