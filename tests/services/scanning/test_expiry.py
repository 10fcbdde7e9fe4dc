"""Expiring stale zones by the market's clock, each with its event, in one transaction."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.events import EventRow
from cryptolens.db.models import Pattern
from cryptolens.db.symbols import ensure_symbol
from cryptolens.detect import Candles
from cryptolens.domain.enums import PatternStatus
from cryptolens.services.market.candle_store import store_candles
from cryptolens.services.market.clock import record_market_now
from cryptolens.services.scanning.expiry import expire_zones
from cryptolens.services.scanning.scan import scan_stored

YEAR_MS = 366 * 24 * 3_600_000


def test_zones_past_their_lifetime_expire_each_with_a_zone_changed_event(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    candles = btc_hours[:800]
    with Session(scan_engine) as session, session.begin():
        sid = ensure_symbol(session, exchange="binance", symbol="BTC/USDT").id
    with scan_engine.begin() as connection:
        store_candles(
            connection,
            symbol_id=sid,
            base_timeframe=scan_settings.base_timeframe,
            higher_timeframes=scan_settings.higher_timeframes,
            candles=candles,
            now_ms=int(candles.open_time[-1]),
        )
    scan_stored(scan_engine, scan_settings, symbol_id=sid, symbol="BTC/USDT")
    with Session(scan_engine) as session:
        open_ids = set(session.scalars(select(Pattern.id).where(Pattern.status == "active")))
        before = session.scalar(select(EventRow.id).order_by(EventRow.id.desc()).limit(1))
    assert open_ids  # the scan left zones open for the clock to expire

    with Session(scan_engine) as session, session.begin():
        record_market_now(session, exchange="binance", now_ms=int(candles.open_time[-1]) + YEAR_MS)
    expired = expire_zones(scan_engine, exchange="binance")

    with Session(scan_engine) as session:
        statuses = {
            row.id: row.status for row in session.execute(select(Pattern.id, Pattern.status))
        }
        events = session.execute(
            select(EventRow.type, EventRow.payload).where(EventRow.id > (before or 0))
        ).all()
    assert expired >= len(open_ids)
    assert all(statuses[pid] == PatternStatus.EXPIRED.value for pid in open_ids)
    changes = [payload for kind, payload in events if kind == "zone_changed"]
    assert len(changes) == expired
    assert {c["change"] for c in changes} == {"expired"}


def test_nothing_expires_before_the_market_clock_has_ever_ticked(scan_engine: Engine) -> None:
    assert expire_zones(scan_engine, exchange="nowhere") == 0
