"""Features of zones the live scanner has just detected, from the candles it has at hand.

The scanner detects incrementally, so it holds ``detect.Zone`` objects and a window of the
newest stored candles rather than the whole history: this module maps each zone's deciding
candle into that window and counts the zones formed before it from what is stored. With a
window of ``WINDOW`` candles the values are those ``zone_features`` computes on the full
history (Wilder's ATR forgets its start long before: (13/14)**300 < 1e-9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cryptolens.detect import Candles, Zone
from cryptolens.detect.candles import BoolArray, FloatArray, IntArray
from cryptolens.detect.zones import INPUT_NAMES, PATTERNS
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.quality.dataset import ZoneTable
from cryptolens.quality.features import FEATURES, LONG, zone_features

#: Candles of the zone's timeframe to load: the longest look-back plus the ATR's warm-up.
WINDOW = LONG + 300
#: Candles of the next longer timeframe to load.
HIGHER_WINDOW = 40


def live_features(
    zones: Sequence[Zone],
    timeframe: str,
    window: Candles,
    higher: Mapping[str, Candles],
    *,
    earlier_formed: IntArray,
    earlier_bullish: BoolArray,
) -> tuple[FloatArray, BoolArray]:
    """Feature rows of ``zones`` (all of ``timeframe``) and which rows could be computed
    (the deciding candle is in ``window``). ``higher`` holds the next longer timeframe's
    newest candles (empty for the longest); ``earlier_*`` the stored zones of this symbol
    and timeframe (formation time and direction)."""
    n = len(zones)
    tf_ms = np.int64(TIMEFRAME_MS[timeframe])
    formed = np.array([z.formed_at for z in zones], dtype=np.int64)
    decided = np.searchsorted(window.open_time, formed - tf_ms).astype(np.int64)
    inside = decided < len(window)
    inside[inside] = window.open_time[decided[inside]] == formed[inside] - tf_ms
    decided = np.where(inside, decided, max(len(window) - 1, 0))
    lag = np.array([z.decided_index - z.formed_index for z in zones], dtype=np.int64)
    table = ZoneTable(
        timeframe=np.full(n, timeframe, dtype=object),
        pattern=np.array([PATTERNS.index(z.pattern_type) for z in zones], dtype=np.int8),
        bullish=np.array([z.direction == "bullish" for z in zones], dtype=bool),
        zone_low=np.array([z.zone_low for z in zones], dtype=np.float64),
        zone_high=np.array([z.zone_high for z in zones], dtype=np.float64),
        formed_index=decided - lag,
        decided_index=decided,
        formed_at=formed,
        strength=np.array([z.strength for z in zones], dtype=np.float64),
        atr=np.array([z.atr for z in zones], dtype=np.float64),
        inputs={
            name: np.array([z.inputs.get(name, np.nan) for z in zones], dtype=np.float64)
            for name in INPUT_NAMES
        },
    )
    if n == 0 or len(window) == 0:
        return np.full((n, len(FEATURES)), np.nan), np.zeros(n, dtype=bool)
    features = zone_features(table, {timeframe: window, **higher})
    all_formed = np.concatenate([earlier_formed, formed])
    all_bullish = np.concatenate([earlier_bullish, table.bullish])
    features[:, FEATURES.index("recent_same")] = recent_counts(
        formed, table.bullish, timeframe, all_formed, all_bullish
    )
    return features, inside


def recent_counts(
    formed: IntArray,
    bullish: BoolArray,
    timeframe: str,
    others: IntArray,
    others_bullish: BoolArray,
) -> FloatArray:
    """Zones among ``others`` of the same direction formed in the LONG candles before each."""
    window = np.int64(LONG * TIMEFRAME_MS[timeframe])
    out = np.zeros(formed.shape[0])
    for side in (True, False):
        times = np.sort(others[others_bullish == side])
        rows = bullish == side
        at = formed[rows]
        out[rows] = np.searchsorted(times, at, side="left") - np.searchsorted(
            times, at - window, side="left"
        )
    return out
