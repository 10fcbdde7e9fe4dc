"""The newest zone-quality model's probability of holding for zones the scanner just found."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import Connection

from cryptolens.config import Settings
from cryptolens.db.candles import load_candles
from cryptolens.db.patterns import zone_times
from cryptolens.detect import Candles, Zone
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.quality.features import LONG
from cryptolens.quality.live import HIGHER_WINDOW, WINDOW, live_features
from cryptolens.services.quality.models import StoredModel, load_latest, models_dir

#: A zone's probability of holding and the model version that gave it.
Quality = tuple[float | None, str | None]


def current_model(settings: Settings) -> StoredModel | None:
    """The model new zones are scored with (None: none trained yet)."""
    return load_latest(models_dir(settings))


def score_new_zones(
    connection: Connection,
    settings: Settings,
    *,
    symbol_id: int,
    timeframe: str,
    zones: Sequence[Zone],
    new_candles: Candles,
    model: StoredModel | None,
) -> list[Quality]:
    """(P(held), model version) of each zone detected in ``new_candles``, from the stored
    candles before them, the new ones and the next longer timeframe's; (None, None) without
    a model or where the features cannot be computed."""
    if model is None or not zones or len(new_candles) == 0:
        return [(None, None)] * len(zones)
    first = int(new_candles.open_time[0])
    before = load_candles(
        connection,
        symbol_id=symbol_id,
        timeframe=timeframe,
        end_ms=first,
        limit=WINDOW,
        newest=True,
    )
    window = Candles(
        *(
            np.concatenate([getattr(before, name), getattr(new_candles, name)])
            for name in ("open_time", "open", "high", "low", "close", "volume")
        )
    )
    formed = [z.formed_at for z in zones]
    higher = {}
    longer = [t for t in settings.timeframes if TIMEFRAME_MS[t] > TIMEFRAME_MS[timeframe]]
    if longer:
        h = longer[0]
        h_ms = TIMEFRAME_MS[h]
        higher[h] = load_candles(
            connection,
            symbol_id=symbol_id,
            timeframe=h,
            start_ms=min(formed) - (HIGHER_WINDOW + 1) * h_ms,
            end_ms=max(formed),
        )
    stored = zone_times(
        connection,
        symbol_id=symbol_id,
        timeframe=timeframe,
        start_ms=min(formed) - LONG * TIMEFRAME_MS[timeframe],
        end_ms=max(formed),
    )
    features, ok = live_features(
        zones,
        timeframe,
        window,
        higher,
        earlier_formed=np.array([f for f, _ in stored], dtype=np.int64),
        earlier_bullish=np.array([d == "bullish" for _, d in stored], dtype=bool),
    )
    probability = model.model.predict(features)
    return [
        (float(p), model.version) if good else (None, None)
        for p, good in zip(probability, ok, strict=True)
    ]
