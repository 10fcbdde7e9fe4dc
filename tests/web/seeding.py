"""Hand-built rows for the web tests: symbols, zones and signals, and the real BTC/USD demo
history with the zones the detectors find in it."""

from __future__ import annotations

from itertools import count
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from cryptolens.db.candles import upsert_candles
from cryptolens.db.models import Pattern, Signal, SignalPattern
from cryptolens.db.symbols import ensure_symbol
from cryptolens.detect import detect, run_lifecycle
from cryptolens.detect.candles import Candles
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.market.aggregate import aggregate_candles
from cryptolens.market.simulator.datasets import load_dataset
from cryptolens.market.simulator.demo import DEFAULT_DATA_DIR, HOURLY_FILE
from cryptolens.services.market.clock import record_market_now

EXCHANGE = "binance"
#: 2024-01-01T00:00Z
T0 = 1_704_067_200_000
_unique = count(1)


def add_symbol(session: Session, symbol: str = "BTC/USDT", *, exchange: str = EXCHANGE) -> int:
    return ensure_symbol(session, exchange=exchange, symbol=symbol).id


def pattern_values(symbol_id: int, **values: Any) -> dict[str, Any]:
    """A zone's columns; unset fields get plausible values and a unique formation time."""
    n = next(_unique)
    fields: dict[str, Any] = {
        "symbol_id": symbol_id,
        "timeframe": "1h",
        "pattern_type": "fvg",
        "direction": "bullish",
        "zone_low": 100.0,
        "zone_high": 110.0,
        "candle_time": T0 + n * HOUR_MS,
        "formed_at": T0 + (n + 2) * HOUR_MS,
        "strength": 0.5,
        "status": "active",
        "fill_fraction": 0.0,
        "expires_at": T0 + (n + 100) * HOUR_MS,
    }
    return fields | values


def add_pattern(session: Session, *, symbol_id: int, **values: Any) -> Pattern:
    """A zone; unset fields get plausible values and a unique formation time."""
    pattern = Pattern(**pattern_values(symbol_id, **values))
    session.add(pattern)
    session.flush()
    return pattern


def signal_values(symbol_id: int, **values: Any) -> dict[str, Any]:
    """A long signal's columns, levels around 100; unset fields get plausible values."""
    n = next(_unique)
    fields: dict[str, Any] = {
        "symbol_id": symbol_id,
        "direction": "bullish",
        "confluence": 2,
        "score": 0.7,
        "timeframes": "1h,4h",
        "entry": 100.0,
        "stop": 95.0,
        "target_1": 105.0,
        "target_2": 110.0,
        "target_3": 120.0,
        "risk_reward": 2.0,
        "status": "pending",
        "created_at": T0 + n * HOUR_MS,
    }
    return fields | values


def add_signal(
    session: Session, *, symbol_id: int, patterns: tuple[Pattern, ...] = (), **values: Any
) -> Signal:
    """A long signal with levels around 100; unset fields get plausible values."""
    signal = Signal(**signal_values(symbol_id, **values))
    session.add(signal)
    session.flush()
    for pattern in patterns:
        session.add(SignalPattern(signal_id=signal.id, pattern_id=pattern.id))
    session.flush()
    return signal


def demo_candles(last: int) -> Candles:
    """The newest ``last`` hourly candles of the shipped Coinbase BTC/USD history."""
    data = load_dataset(DEFAULT_DATA_DIR / HOURLY_FILE)
    return Candles.from_arrays(
        data.open_time[-last:],
        data.open[-last:],
        data.high[-last:],
        data.low[-last:],
        data.close[-last:],
        data.volume[-last:],
    )


def _store_zones(session: Session, symbol_id: int, timeframe: str, candles: Candles) -> list[int]:
    detections = detect(candles, timeframe)
    life = run_lifecycle(detections, candles, timeframe)
    statuses = life.status
    fills = life.fill_fraction
    ids = []
    for i, zone in enumerate(detections.to_zones()):
        pattern = Pattern(
            symbol_id=symbol_id,
            timeframe=timeframe,
            pattern_type=zone.pattern_type.value,
            direction=zone.direction.value,
            zone_low=zone.zone_low,
            zone_high=zone.zone_high,
            candle_time=zone.formed_open_time,
            formed_at=zone.formed_at,
            strength=zone.strength,
            strength_inputs=zone.inputs,
            status=statuses[i].value,
            fill_fraction=float(fills[i]),
            touched_at=int(life.touched_at[i]) if life.touched_at[i] > 0 else None,
            filled_at=int(life.filled_at[i]) if life.filled_at[i] > 0 else None,
            invalidated_at=int(life.invalidated_at[i]) if life.invalidated_at[i] > 0 else None,
            expired_at=int(life.expired_at[i]) if life.expired_at[i] > 0 else None,
            expires_at=int(life.expires_at[i]),
        )
        session.add(pattern)
        ids.append(pattern)
    session.flush()
    return [p.id for p in ids]


def seed_btc_demo(session: Session, *, symbol: str = "BTC/USDT", hours: int = 2000) -> int:
    """Real BTC/USD candles on 1h and 4h, the zones the detectors find with their lifecycle,
    one signal formed by two of them, and the market clock at the newest candle's close.
    Returns the signal's id."""
    symbol_id = add_symbol(session, symbol)
    hourly = demo_candles(hours)
    four_hourly = aggregate_candles(hourly, base_timeframe="1h", target_timeframe="4h")
    connection = session.connection()
    upsert_candles(connection, symbol_id=symbol_id, timeframe="1h", candles=hourly)
    upsert_candles(
        connection,
        symbol_id=symbol_id,
        timeframe="4h",
        candles=four_hourly,
        complete=four_hourly.complete,
    )
    four = Candles.from_arrays(
        four_hourly.open_time,
        four_hourly.open,
        four_hourly.high,
        four_hourly.low,
        four_hourly.close,
        four_hourly.volume,
    )
    zone_ids = _store_zones(session, symbol_id, "1h", hourly)
    zone_ids += _store_zones(session, symbol_id, "4h", four)
    now = int(hourly.open_time[-1]) + HOUR_MS
    record_market_now(session, exchange=EXCHANGE, now_ms=now)
    last_close = float(np.asarray(hourly.close)[-1])
    patterns = tuple(session.get(Pattern, pid) for pid in zone_ids[-2:])
    signal = add_signal(
        session,
        symbol_id=symbol_id,
        patterns=tuple(p for p in patterns if p is not None),
        entry=last_close,
        stop=last_close * 0.97,
        target_1=last_close * 1.03,
        target_2=last_close * 1.06,
        target_3=last_close * 1.09,
        created_at=now - 3 * HOUR_MS,
    )
    return signal.id
