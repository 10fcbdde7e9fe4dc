"""The scanner stores each new zone's probability of holding from the newest model, the same
figure the model gives the zone's features computed on the whole history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.backtest.replay import prepare
from cryptolens.config import Settings
from cryptolens.db.models import Pattern, SignalPattern
from cryptolens.detect import Candles
from cryptolens.detect.zones import PATTERNS
from cryptolens.quality.features import build_dataset
from cryptolens.services.quality.models import train_stored
from cryptolens.services.scanning.scan import scan_stored
from tests.builders.db import add_symbol, store
from tests.builders.settings import make_settings

pytestmark = pytest.mark.db

TRAIN = 120 * 24  # hours stored before the model is trained
MORE = 10 * 24


def test_new_zones_get_the_models_probability_and_version(
    scan_engine: Engine, database_url: str, btc_hours: Candles, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url=database_url,
        base_timeframe="1h",
        timeframes=("1h", "4h"),
        exchange_id="binance",
        instance_dir=tmp_path,
    )
    sid = add_symbol(scan_engine, "BTC/USDT")
    store(scan_engine, settings, sid, btc_hours[:TRAIN])
    scan_stored(scan_engine, settings, symbol_id=sid, symbol="BTC/USDT")
    with Session(scan_engine) as s:
        assert set(s.scalars(select(Pattern.quality_probability))) == {None}
    model = train_stored(scan_engine, settings, now=datetime(2026, 1, 1, tzinfo=UTC))
    store(scan_engine, settings, sid, btc_hours[TRAIN : TRAIN + MORE])
    for hour in range(3):  # a few live scans, one candle each
        at = TRAIN + MORE + hour
        store(scan_engine, settings, sid, btc_hours[at : at + 1])
        scan_stored(scan_engine, settings, symbol_id=sid, symbol="BTC/USDT")
    with Session(scan_engine) as s:
        rows = s.execute(
            select(
                Pattern.timeframe,
                Pattern.pattern_type,
                Pattern.direction,
                Pattern.formed_at,
                Pattern.quality_probability,
                Pattern.quality_model_version,
            ).where(Pattern.quality_probability.is_not(None))
        ).all()
    assert len(rows) > 10
    assert {r.quality_model_version for r in rows} == {model.version}
    # The same zones scored offline on the full history.
    prepared = prepare(btc_hours[: TRAIN + MORE + 3], base_timeframe="1h", timeframes=["1h", "4h"])
    data = build_dataset(prepared.columns.detections(), prepared.candles)
    offline = model.model.predict(data.features)
    z = data.zones
    index = {
        (z.timeframe[i], PATTERNS[z.pattern[i]].value, "bullish" if z.bullish[i] else "bearish",
         int(z.formed_at[i])): i
        for i in range(len(data))
    }  # fmt: skip
    got = np.array([r.quality_probability for r in rows])
    want = np.array([offline[index[(r[0], r[1], r[2], r[3])]] for r in rows])
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_signal_min_quality_keeps_weaker_zones_out_of_signals(
    scan_engine: Engine, database_url: str, btc_hours: Candles, tmp_path: Path
) -> None:
    def settings_with(minimum: float) -> Settings:
        return make_settings(
            database_url=database_url,
            base_timeframe="1h",
            timeframes=("1h", "4h"),
            exchange_id="binance",
            instance_dir=tmp_path,
            signal_min_confluence=1,
            signal_min_quality=minimum,
        )

    open_gate, gated = settings_with(0.0), settings_with(0.5)
    train = add_symbol(scan_engine, "TRAIN/USD")
    store(scan_engine, open_gate, train, btc_hours[:TRAIN])
    scan_stored(scan_engine, open_gate, symbol_id=train, symbol="TRAIN/USD")
    train_stored(scan_engine, open_gate, now=datetime(2026, 1, 1, tzinfo=UTC))
    counted = {}
    for name, settings in (("OPEN/USD", open_gate), ("GATED/USD", gated)):
        sid = add_symbol(scan_engine, name)
        store(scan_engine, settings, sid, btc_hours[TRAIN : TRAIN + 60 * 24])
        scan_stored(scan_engine, settings, symbol_id=sid, symbol=name)
        with Session(scan_engine) as s:
            counted[name] = s.execute(
                select(Pattern.quality_probability)
                .join(SignalPattern, SignalPattern.pattern_id == Pattern.id)
                .where(Pattern.symbol_id == sid)
            ).scalars().all()  # fmt: skip
    assert any(p is not None and p < 0.5 for p in counted["OPEN/USD"])
    assert counted["GATED/USD"]
    assert all(p is None or p >= 0.5 for p in counted["GATED/USD"])
