"""Placebo zones: each real zone's shape moved to a random moment, to ask "would any zone of
this size, this far from price, in this direction, have held as often?".

For every real zone and draw, a candle of the zone's own timeframe is picked at random
(uniformly among those past the ATR's warm-up with a positive ATR) with a seeded ``numpy``
generator; the placebo
forms at that candle's close with:

* the same direction and timeframe;
* the same height in ATR (the ATR of the timeframe at the placebo's candle);
* the same distance, in ATR, from that candle's close to the zone's near edge as the real
  zone had from the close of the candle that decided it (so a demand zone just under price
  stays just under price).

The placebos then go through the very outcome rule of the real zones (``quality.outcomes``).
The same zones, candles and seed give the same placebos.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cryptolens.detect import DEFAULT_PARAMS, Candles, DetectionParams, initial_state, wilder_atr
from cryptolens.detect.candles import FloatArray
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.quality.outcomes import ZoneSpec


def timeframe_atr(
    candles: Candles, timeframe: str, detection: DetectionParams = DEFAULT_PARAMS
) -> FloatArray:
    """The ATR of every candle of one timeframe, as detection computes it from scratch."""
    state = initial_state(timeframe, detection).atr
    assert state is not None
    return wilder_atr(candles.high, candles.low, candles.close, state)[0]


def placebo_zones(
    zones: Sequence[ZoneSpec],
    candles_by_tf: Mapping[str, Candles],
    atr_by_tf: Mapping[str, FloatArray],
    *,
    seed: int,
    draws: int = 1,
    warmup: int = 0,
) -> list[ZoneSpec]:
    """``draws`` placebos per zone, zone by zone (placebo ``i * draws + d`` is zone ``i``'s),
    never on the first ``warmup`` candles of a timeframe (where ATR is still settling).

    Raises ValidationError for fewer than one draw, a timeframe without candles or ATR, or a
    zone whose formation is not the close of one of its timeframe's candles."""
    if draws < 1:
        raise ValidationError(f"placebo draws must be at least 1, got {draws}")
    rng = np.random.default_rng(seed)
    # One uniform number per placebo, drawn up front: zone order alone fixes the outcome.
    uniform = rng.random((len(zones), draws))
    valid: dict[str, np.ndarray] = {}
    out: list[ZoneSpec] = []
    for i, zone in enumerate(zones):
        tf = zone.timeframe
        if tf not in candles_by_tf or tf not in atr_by_tf:
            raise ValidationError(f"no candles or ATR for timeframe {tf!r}")
        candles, atr = candles_by_tf[tf], atr_by_tf[tf]
        if tf not in valid:
            usable = np.isfinite(atr) & (atr > 0)
            usable[:warmup] = False
            valid[tf] = np.flatnonzero(usable)
            if not len(valid[tf]):
                raise ValidationError(f"timeframe {tf!r} has no candle with a positive ATR")
        step = timeframe_ms(tf)
        ref = int(np.searchsorted(candles.open_time, zone.formed_at - step))
        if ref >= len(candles) or int(candles.open_time[ref]) != zone.formed_at - step:
            raise ValidationError(f"zone formed at {zone.formed_at} is not a {tf} candle's close")
        if not zone.atr > 0:
            raise ValidationError(f"zone formed at {zone.formed_at} has no positive ATR")
        bullish = Direction(zone.direction) is Direction.BULLISH
        height = (zone.zone_high - zone.zone_low) / zone.atr
        close = float(candles.close[ref])
        gap = (close - zone.zone_high if bullish else zone.zone_low - close) / zone.atr
        picks = valid[tf][(uniform[i] * len(valid[tf])).astype(np.int64)]
        for j in picks.tolist():
            unit, at = float(atr[j]), float(candles.close[j])
            if bullish:
                high = at - gap * unit
                low = high - height * unit
            else:
                low = at + gap * unit
                high = low + height * unit
            out.append(
                ZoneSpec(
                    timeframe=tf,
                    direction=Direction(zone.direction),
                    zone_low=low,
                    zone_high=high,
                    formed_at=int(candles.open_time[j]) + step,
                    atr=unit,
                )
            )
    return out
