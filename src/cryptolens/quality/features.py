"""Features of a zone known the moment it forms: only candles closed by ``formed_at`` count.

Every feature of a zone on timeframe tf reads candles of tf up to the zone's deciding candle
(``decided_index``) and, for higher-timeframe agreement, candles of the next longer timeframe
that closed by ``formed_at``. Distances are in the zone's ATR; trends are signed by the
zone's direction (positive: the market moves the way the zone trades).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cryptolens.detect import AtrState, Candles, Detections, wilder_atr
from cryptolens.detect.candles import FloatArray, IntArray
from cryptolens.detect.zones import INPUT_NAMES
from cryptolens.domain.timeframes import HOUR_MS, TIMEFRAME_MS
from cryptolens.quality.dataset import Dataset, ZoneTable, label_zones

#: Candles looked back for the trend, the range position and the opposing structure.
SHORT, LONG, ROOM = 20, 100, 50
#: Candles of the next longer timeframe its trend is measured over.
HIGHER = 10
DETECTION_INPUTS = tuple(name for name in INPUT_NAMES if name != "size_atr")

FEATURES: tuple[str, ...] = (
    "pattern",
    "bullish",
    "timeframe_hours",
    "size_atr",
    *DETECTION_INPUTS,
    "strength",
    "decision_lag",
    "distance_atr",
    "trend_short",
    "trend_long",
    "range_position",
    "room_atr",
    "atr_pct",
    "atr_regime",
    "higher_trend",
    "recent_same",
    "hour",
    "weekday",
)
#: Features that are categories, not quantities (for the model).
CATEGORICAL = ("pattern",)


def zone_features(zones: ZoneTable, candles_by_tf: Mapping[str, Candles]) -> FloatArray:
    """One row of ``FEATURES`` per zone (NaN where a feature is unknown, e.g. too little
    history or a flat market). Raises KeyError when a zone's timeframe has no candles."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _features(zones, candles_by_tf)
    out[~np.isfinite(out)] = np.nan
    return out


def _features(zones: ZoneTable, candles_by_tf: Mapping[str, Candles]) -> FloatArray:
    n = len(zones)
    out = np.full((n, len(FEATURES)), np.nan)
    col = {name: i for i, name in enumerate(FEATURES)}
    sign = np.where(zones.bullish, 1.0, -1.0)
    atr = np.where(zones.atr > 0, zones.atr, np.nan)
    out[:, col["pattern"]] = zones.pattern
    out[:, col["bullish"]] = zones.bullish
    out[:, col["timeframe_hours"]] = [TIMEFRAME_MS[tf] / HOUR_MS for tf in zones.timeframe]
    out[:, col["size_atr"]] = (zones.zone_high - zones.zone_low) / atr
    for name in DETECTION_INPUTS:
        out[:, col[name]] = zones.inputs[name]
    out[:, col["strength"]] = zones.strength
    out[:, col["decision_lag"]] = zones.decided_index - zones.formed_index
    hours = (zones.formed_at // HOUR_MS) % 24
    out[:, col["hour"]] = hours
    out[:, col["weekday"]] = ((zones.formed_at // (24 * HOUR_MS)) + 3) % 7  # 0 = Monday
    names = sorted(set(zones.timeframe.tolist()), key=TIMEFRAME_MS.__getitem__)
    longer = sorted(candles_by_tf, key=TIMEFRAME_MS.__getitem__)
    for tf in names:
        rows = np.flatnonzero(zones.timeframe == tf)
        _candle_features(out, col, zones, rows, candles_by_tf[tf], sign[rows], atr[rows])
        above = [t for t in longer if TIMEFRAME_MS[t] > TIMEFRAME_MS[tf]]
        if above:
            out[rows, col["higher_trend"]] = _higher_trend(
                candles_by_tf[above[0]], above[0], zones.formed_at[rows], sign[rows], atr[rows]
            )
    out[:, col["recent_same"]] = _recent_same(zones)
    return out


def _candle_features(
    out: FloatArray,
    col: Mapping[str, int],
    zones: ZoneTable,
    rows: IntArray,
    candles: Candles,
    sign: FloatArray,
    atr: FloatArray,
) -> None:
    d = zones.decided_index[rows]
    close, high, low = candles.close, candles.high, candles.low
    now = close[d]
    near = np.where(zones.bullish[rows], zones.zone_high[rows], zones.zone_low[rows])
    out[rows, col["distance_atr"]] = sign * (now - near) / atr
    out[rows, col["trend_short"]] = sign * (now - _back(close, d, SHORT)) / atr
    out[rows, col["trend_long"]] = sign * (now - _back(close, d, LONG)) / atr
    top = _trailing(high, LONG, np.max)[d]
    bottom = _trailing(low, LONG, np.min)[d]
    position = (now - bottom) / (top - bottom)
    out[rows, col["range_position"]] = np.where(sign > 0, position, 1.0 - position)
    # The nearest opposing structure: the extreme the zone's move must get through.
    ceiling = _trailing(high, ROOM, np.max)[d]
    floor = _trailing(low, ROOM, np.min)[d]
    room = np.where(sign > 0, ceiling - zones.zone_high[rows], zones.zone_low[rows] - floor)
    out[rows, col["room_atr"]] = room / atr
    out[rows, col["atr_pct"]] = 100 * atr / now
    series = wilder_atr(high, low, close, AtrState(14))[0]
    out[rows, col["atr_regime"]] = atr / _back(series, d, LONG)


def _back(values: FloatArray, index: IntArray, lag: int) -> FloatArray:
    """values[index - lag], NaN where that is before the first candle."""
    at = index - lag
    got = values[np.maximum(at, 0)].astype(np.float64)
    return np.where(at >= 0, got, np.nan)


def _trailing(values: FloatArray, window: int, how: object) -> FloatArray:
    """Max or min over each candle and the ``window - 1`` before it (never a later one)."""
    rolling = pd.Series(values).rolling(window, min_periods=1)
    out: FloatArray = (rolling.max() if how is np.max else rolling.min()).to_numpy()
    return out


def _higher_trend(
    candles: Candles, tf: str, formed_at: IntArray, sign: FloatArray, atr: FloatArray
) -> FloatArray:
    """Signed move of the longer timeframe over its last HIGHER candles closed by formed_at."""
    closes_at = candles.open_time + np.int64(TIMEFRAME_MS[tf])
    last = np.searchsorted(closes_at, formed_at, side="right") - 1
    now = np.where(last >= 0, candles.close[np.maximum(last, 0)], np.nan)
    return sign * (now - _back(candles.close, last, HIGHER)) / atr


def _recent_same(zones: ZoneTable) -> FloatArray:
    """Zones of the same timeframe and direction formed in the LONG candles before this one."""
    out = np.zeros(len(zones))
    for tf in set(zones.timeframe.tolist()):
        window = np.int64(LONG * TIMEFRAME_MS[tf])
        for side in (True, False):
            rows = np.flatnonzero((zones.timeframe == tf) & (zones.bullish == side))
            times = np.sort(zones.formed_at[rows])
            at = zones.formed_at[rows]
            first = np.searchsorted(times, at - window, side="left")
            upto = np.searchsorted(times, at, side="left")
            out[rows] = upto - first
    return out


def build_dataset(
    parts: Sequence[tuple[str, Detections]],
    candles_by_tf: Mapping[str, Candles],
    atr_mult: float = 1.0,
) -> Dataset:
    """Zones of each ``(timeframe, detections)`` pair with their features and verdicts."""
    zones = ZoneTable.from_detections(parts)
    verdict, known = label_zones(zones, candles_by_tf, atr_mult)
    return Dataset(zones, zone_features(zones, candles_by_tf), FEATURES, verdict, known)
