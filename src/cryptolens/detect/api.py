"""Public entry points: full runs, incremental runs and the structure building blocks."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from cryptolens.detect.atr import AtrState, wilder_atr
from cryptolens.detect.candles import (
    BoolArray,
    Candles,
    FloatArray,
    IntArray,
    as_candles,
    holes_before,
)
from cryptolens.detect.engine import DetectorState, initial_state, run
from cryptolens.detect.lifecycle import LifecycleColumns, advance_columns
from cryptolens.detect.params import (
    DEFAULT_LIFECYCLE,
    DEFAULT_PARAMS,
    DetectionParams,
    LifecycleParams,
)
from cryptolens.detect.structure import classify_breaks, equal_pools, side_breaks
from cryptolens.detect.swings import Swings, find_swings
from cryptolens.detect.window import Window
from cryptolens.detect.zones import Detections, Zone
from cryptolens.domain.enums import PatternType
from cryptolens.domain.timeframes import timeframe_ms


def detect(
    candles: Candles, timeframe: str, params: DetectionParams = DEFAULT_PARAMS
) -> Detections:
    """All three detectors over ``candles`` as one columnar batch."""
    return run(initial_state(timeframe, params), candles)[1]


def detect_all(
    candles: Candles, timeframe: str, params: DetectionParams = DEFAULT_PARAMS
) -> list[Zone]:
    """All zones (FVG, order blocks, liquidity sweeps) found in ``candles``, oldest first."""
    return detect(candles, timeframe, params).to_zones()


def detect_fvg(
    candles: Candles, timeframe: str, params: DetectionParams = DEFAULT_PARAMS
) -> Detections:
    """Fair Value Gaps, bullish and bearish."""
    return run(initial_state(timeframe, params), candles, {PatternType.FVG})[1]


def detect_order_blocks(
    candles: Candles, timeframe: str, params: DetectionParams = DEFAULT_PARAMS
) -> Detections:
    """Order blocks behind every break of structure."""
    return run(initial_state(timeframe, params), candles, {PatternType.ORDER_BLOCK})[1]


def detect_liquidity_sweeps(
    candles: Candles, timeframe: str, params: DetectionParams = DEFAULT_PARAMS
) -> Detections:
    """Sweeps of swing and equal-high/low liquidity."""
    return run(initial_state(timeframe, params), candles, {PatternType.LIQUIDITY_SWEEP})[1]


def detect_incremental(
    state: DetectorState, new_candles: Candles
) -> tuple[DetectorState, list[Zone]]:
    """Zones decided by ``new_candles`` (newer than any seen) and the state to continue from.

    Feeding a series in any number of pieces yields exactly the zones of one full run.
    """
    new_state, found = run(state, new_candles)
    return new_state, found.to_zones()


def lookback_needed(params: DetectionParams = DEFAULT_PARAMS) -> int:
    """Closed candles the incremental state keeps (the rest of the past lives in the state)."""
    return params.lookback


def run_lifecycle(
    zones: Detections,
    candles: Candles,
    timeframe: str,
    params: LifecycleParams = DEFAULT_LIFECYCLE,
) -> LifecycleColumns:
    """Lifecycle of freshly detected zones over the candles (those after each formed_at)."""
    cols = LifecycleColumns.open(zones, timeframe, params)
    c = as_candles(candles)
    holes_before(c, timeframe_ms(timeframe))  # a zone's life may span a hole, not bad times
    return advance_columns(cols, c, timeframe_ms(timeframe))


@dataclass(frozen=True, slots=True, eq=False)
class Breaks:
    """Breaks of structure in time order (indices into the candles analysed)."""

    index: IntArray
    bullish: BoolArray
    choch: BoolArray
    level: FloatArray
    swing_pivot: IntArray
    formed_at: IntArray

    def __len__(self) -> int:
        return int(self.index.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class EqualLevels:
    """Equal highs or lows (liquidity pools): known at ``formed_at``."""

    formed_index: IntArray
    formed_at: IntArray
    level: FloatArray
    first_pivot: IntArray
    second_pivot: IntArray

    def __len__(self) -> int:
        return int(self.formed_index.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class Structure:
    """ATR, confirmed swings, breaks (BOS/CHoCH) and equal highs/lows of a candle series."""

    atr: FloatArray
    swing_highs: Swings
    swing_lows: Swings
    breaks: Breaks
    equal_highs: EqualLevels
    equal_lows: EqualLevels


def market_structure(
    candles: Candles, timeframe: str, params: DetectionParams = DEFAULT_PARAMS
) -> Structure:
    """The building blocks the detectors use, computed over all of ``candles``.

    Like detection, each run of consecutive candles between holes is read on its own (indices
    stay those of ``candles``), so no swing, break or pool spans missing candles.
    """
    c = as_candles(candles)
    tf = timeframe_ms(timeframe)
    starts = sorted({0, *holes_before(c, tf).tolist()})
    if len(starts) == 1:
        return _structure(c, tf, params)
    parts = [
        _structure(c[a:b], tf, params) for a, b in zip(starts, [*starts[1:], len(c)], strict=True)
    ]
    return Structure(
        atr=np.concatenate([part.atr for part in parts]),
        **{
            name: _joined([getattr(part, name) for part in parts], starts)
            for name in ("swing_highs", "swing_lows", "breaks", "equal_highs", "equal_lows")
        },
    )


#: Fields holding candle indices, which move by a segment's offset when segments are joined.
_INDEX_FIELDS = frozenset(
    {"pivot", "confirm", "index", "swing_pivot", "formed_index", "first_pivot", "second_pivot"}
)


def _joined(parts: list[Any], offsets: list[int]) -> Any:
    """Per-segment Swings/Breaks/EqualLevels as one, indices shifted to the whole series."""
    kind = type(parts[0])
    columns = {}
    for f in fields(kind):
        values = [getattr(part, f.name) for part in parts]
        if f.name in _INDEX_FIELDS:
            values = [v + off for v, off in zip(values, offsets, strict=True)]
        columns[f.name] = np.concatenate(values)
    return kind(**columns)


def _structure(c: Candles, tf: int, params: DetectionParams) -> Structure:
    atr, _ = wilder_atr(c.high, c.low, c.close, AtrState(period=params.atr_period))
    w = Window(c, 0, 0, tf, atr)
    highs, lows = find_swings(c.high, c.low, params.swing_left, params.swing_right)
    up = side_breaks(w, 1, highs, None)
    down = side_breaks(w, -1, lows, None)
    bull_choch, bear_choch, _ = classify_breaks(up.index, down.index, None)
    index = np.concatenate((up.index, down.index))
    bullish = np.concatenate((np.ones(len(up.index), bool), np.zeros(len(down.index), bool)))
    order = np.lexsort((~bullish, index))
    breaks = Breaks(
        index=index[order],
        bullish=bullish[order],
        choch=np.concatenate((bull_choch, bear_choch))[order],
        level=np.concatenate((up.level, -down.level))[order],
        swing_pivot=np.concatenate((up.pivot, down.pivot))[order],
        formed_at=w.close_time(index[order]),
    )
    pools = []
    for sign, swings in ((1, highs), (-1, lows)):
        p = equal_pools(w, sign, swings, None, params.equal_tolerance_atr)
        pools.append(
            EqualLevels(
                formed_index=p.formed,
                formed_at=w.close_time(p.formed),
                level=sign * p.level,
                first_pivot=p.first_pivot,
                second_pivot=p.second_pivot,
            )
        )
    return Structure(atr, highs, lows, breaks, pools[0], pools[1])
