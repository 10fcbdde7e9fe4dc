"""Each kind of event as the stream shows it (docs/streaming.md): closed candles, and zone
changes completed from the zone's stored row."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import Engine

from cryptolens.extensions import db
from cryptolens.services.scanning.scan_events import candles_closed, zone_expired
from tests.builders.stream import SseClient, record, session_cookie
from tests.web.seeding import add_pattern

Sse = Callable[..., SseClient]
CANDLE = {"open": 1.0, "high": 3.0, "low": 0.5, "close": 2.0, "volume": 42.0}


def test_closed_candles_and_zone_changes_arrive_in_the_contracts_shape(
    sse: Sse, app: Flask, migrated_engine: Engine, btc: int
) -> None:
    with app.app_context():
        zone = add_pattern(db.session(), symbol_id=btc, pattern_type="order_block", zone_low=90.0)
        zone_id, formed_at, candle_time = zone.id, zone.formed_at, zone.candle_time
        db.session.commit()
    client = sse("candles:BTC/USDT:1h,zones:BTC/USDT", cookie=session_cookie(app, "t@x.com", "pro"))
    client.events(1)
    record(
        migrated_engine,
        candles_closed(btc, "4h", through=7_200_000, count=1, last=CANDLE),  # not followed
        candles_closed(btc, "1h", through=3_600_000, count=3, last=CANDLE),
        zone_expired(btc, zone_id, "1h", formed_at + 1000),
    )
    candle, change = client.events(2)
    assert (candle.type, candle.data) == (
        "candle",
        {"symbol": "BTC/USDT", "timeframe": "1h", "time": 3600, **CANDLE, "closed": True},
    )
    assert change.type == "zone"
    assert change.data == {
        "id": zone_id,
        "symbol": "BTC/USDT",
        "timeframe": "1h",
        "type": "order_block",
        "direction": "bullish",
        "low": 90.0,
        "high": 110.0,
        "status": "expired",
        "change": "expired",
        "candle_time": candle_time,
        "formed_at": formed_at,
    }
    assert candle.id is not None
    assert change.id is not None
    assert change.id > candle.id
