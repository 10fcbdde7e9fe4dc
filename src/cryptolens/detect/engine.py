"""One engine run over a window, and the resumable state that makes runs incremental.

A full run is an incremental run from the empty state over all candles, so the two paths
share every line of detection code; the property tests check that chunked runs agree.

Missing candles (a hole at the exchange) end a run of consecutive candles: the candles after a
hole are detected as if they were a new series (state reset, stream indices continuing), so no
zone, swing, break or resting level ever spans a hole, whichever path (full or incremental).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

import numpy as np

from cryptolens.detect.atr import AtrState, wilder_atr
from cryptolens.detect.candles import Candles, as_candles, holes_before
from cryptolens.detect.fvg import fvg_in_window
from cryptolens.detect.order_blocks import ob_in_window
from cryptolens.detect.params import DEFAULT_PARAMS, DetectionParams
from cryptolens.detect.strength import per_atr, sweep_strength, volume_ratio
from cryptolens.detect.structure import (
    LastSwing,
    classify_breaks,
    equal_pools,
    side_breaks,
)
from cryptolens.detect.sweeps import IntactLevels, SideSweeps, side_sweeps
from cryptolens.detect.swings import find_swings
from cryptolens.detect.window import Window
from cryptolens.detect.zones import SWEEP_CODE, Detections
from cryptolens.domain.enums import PatternType
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import timeframe_ms

ALL_PATTERNS: frozenset[PatternType] = frozenset(PatternType)


@dataclass(frozen=True, slots=True)
class SideState:
    """Carried facts about one side (highs or lows) of the market."""

    last_swing: LastSwing | None = None
    intact: IntactLevels = field(default_factory=IntactLevels)
    #: Global index of the last order-block candle reported for this side's breaks.
    last_order_block: int = -1


@dataclass(frozen=True, slots=True)
class DetectorState:
    """Everything needed to continue detection after the last candle seen.

    ``tail`` holds the last ``params.lookback`` candles, which later decisions still read;
    the rest summarises the whole past exactly (ATR recursion, the current swings, the
    liquidity still resting, the direction of the last structure break).
    """

    timeframe: str
    params: DetectionParams = DEFAULT_PARAMS
    seen: int = 0
    #: Stream index of the first candle after the last hole (0 if there was none).
    run_start: int = 0
    tail: Candles | None = None
    atr: AtrState | None = None
    highs: SideState = field(default_factory=SideState)
    lows: SideState = field(default_factory=SideState)
    #: True if the last break of structure was bullish, False if bearish, None before any.
    last_break_bullish: bool | None = None

    def __post_init__(self) -> None:
        timeframe_ms(self.timeframe)
        if self.atr is None:
            object.__setattr__(self, "atr", AtrState(period=self.params.atr_period))

    @property
    def last_open_time(self) -> int | None:
        """Open time of the last candle seen, or None before the first."""
        if self.tail is None or len(self.tail) == 0:
            return None
        return int(self.tail.open_time[-1])


def initial_state(timeframe: str, params: DetectionParams = DEFAULT_PARAMS) -> DetectorState:
    """The state before any candle has been seen."""
    return DetectorState(timeframe=timeframe, params=params)


def _join(tail: Candles | None, new: Candles) -> Candles:
    if tail is None or len(tail) == 0:
        return new
    cols = [
        np.concatenate((getattr(tail, name), getattr(new, name)))
        for name in ("open_time", "open", "high", "low", "close", "volume")
    ]
    return Candles(*cols)


def run(
    state: DetectorState,
    new_candles: Candles,
    patterns: Collection[PatternType] = ALL_PATTERNS,
) -> tuple[DetectorState, Detections]:
    """Decide every zone whose last needed candle is among ``new_candles``; return new state.

    Raises ValidationError for bad candles, CandleTimeError for open times that are not epoch
    milliseconds spaced by the timeframe (holes of whole candles are allowed and split the run).
    """
    new = as_candles(new_candles)
    if len(new) == 0:
        return state, Detections.empty()
    last = state.last_open_time
    if last is not None and new.open_time[0] <= last:
        raise ValidationError(
            f"new candles must open after the last one seen ({last}); got {int(new.open_time[0])}"
        )
    holes = holes_before(new, timeframe_ms(state.timeframe), last).tolist()
    if not holes:
        return _run_consecutive(state, new, patterns)
    starts = holes if holes[0] == 0 else [0, *holes]
    parts: list[Detections] = []
    for a, b in zip(starts, [*starts[1:], len(new)], strict=True):
        if a in holes:
            state = after_hole(state)
        state, found = _run_consecutive(state, new[a:b], patterns)
        parts.append(found)
    return state, Detections.concat(parts)


def after_hole(state: DetectorState) -> DetectorState:
    """The state to continue from after missing candles: nothing carries over but the count."""
    return DetectorState(
        timeframe=state.timeframe, params=state.params, seen=state.seen, run_start=state.seen
    )


def _run_consecutive(
    state: DetectorState, new: Candles, patterns: Collection[PatternType]
) -> tuple[DetectorState, Detections]:
    p = state.params
    assert state.atr is not None
    candles = _join(state.tail, new)
    start = len(candles) - len(new)
    w_base = state.seen - start
    atr_new, atr_state = wilder_atr(new.high, new.low, new.close, state.atr)
    atr = np.concatenate((np.full(start, np.nan), atr_new))
    w = Window(candles, start, w_base, timeframe_ms(state.timeframe), atr, state.run_start)

    parts: list[Detections] = []
    if PatternType.FVG in patterns:
        parts.append(fvg_in_window(w, p.fvg_min_size_atr, p.volume_lookback))

    highs, lows = find_swings(candles.high, candles.low, p.swing_left, p.swing_right, start)
    sides = {1: (highs, state.highs), -1: (lows, state.lows)}
    brk = {s: side_breaks(w, s, sw, st.last_swing) for s, (sw, st) in sides.items()}
    bull_choch, bear_choch, last_bullish = classify_breaks(
        brk[1].index, brk[-1].index, state.last_break_bullish
    )
    new_last_ob = {1: state.highs.last_order_block, -1: state.lows.last_order_block}
    if PatternType.ORDER_BLOCK in patterns:
        # Breaking swing highs is bullish, breaking swing lows bearish.
        for sign, choch in ((1, bull_choch), (-1, bear_choch)):
            det, new_last_ob[sign] = ob_in_window(
                w,
                breaks=brk[sign].index,
                levels=sign * brk[sign].level,
                choch=choch,
                bullish=sign > 0,
                previous_ob=new_last_ob[sign],
                zone=p.ob_zone,
                max_leg=p.ob_max_leg,
                volume_lookback=p.volume_lookback,
            )
            parts.append(det)

    remaining = {1: state.highs.intact, -1: state.lows.intact}
    if PatternType.LIQUIDITY_SWEEP in patterns:
        for sign, (sw, st) in sides.items():
            pools = equal_pools(w, sign, sw, st.last_swing, p.equal_tolerance_atr)
            sweeps = side_sweeps(w, sign, sw, pools, st.intact)
            remaining[sign] = sweeps.remaining
            parts.append(_sweep_detections(w, sign, sweeps, p.volume_lookback))

    new_state = replace(
        state,
        seen=state.seen + len(new),
        tail=candles[max(0, len(candles) - p.lookback) :],
        atr=atr_state,
        highs=SideState(brk[1].last, remaining[1], new_last_ob[1]),
        lows=SideState(brk[-1].last, remaining[-1], new_last_ob[-1]),
        last_break_bullish=last_bullish,
    )
    return new_state, Detections.concat(parts)


def _sweep_detections(w: Window, sign: int, sweeps: SideSweeps, volume_lookback: int) -> Detections:
    # Sweeping highs is bearish (the wick above is rejected); sweeping lows is bullish.
    t = sweeps.index
    extreme, _, close, _ = w.signed(sign)
    atr = w.atr[t]
    rejection = per_atr(extreme[t] - close[t], atr)
    vol = volume_ratio(w, t, volume_lookback)
    inner = sign * sweeps.level
    outer = sign * extreme[t]
    return Detections.build(
        w,
        code=SWEEP_CODE,
        bullish=np.full(t.shape[0], sign < 0),
        low=np.minimum(inner, outer),
        high=np.maximum(inner, outer),
        formed=t,
        decided=t,
        strength=sweep_strength(rejection, sweeps.levels_swept, sweeps.pooled, vol),
        atr=atr,
        level=inner,
        volume_ratio=vol,
        levels_swept=sweeps.levels_swept.astype(np.float64),
        pooled=sweeps.pooled.astype(np.float64),
        rejection_atr=rejection,
    )
