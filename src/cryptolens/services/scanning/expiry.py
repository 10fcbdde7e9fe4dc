"""Expiring zones that outlived their timeframe's lifetime, by the market's clock (not the
wall clock), each with its ``zone_changed`` event in the same transaction."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.db.events import record_events
from cryptolens.db.patterns import expire_stale_patterns
from cryptolens.services.market.clock import market_now
from cryptolens.services.scanning.scan_events import zone_expired


def expire_zones(engine: Engine, *, exchange: str) -> int:
    """Expire every stale open zone; how many expired (0 before the first ingestion)."""
    with Session(engine) as session:
        now = market_now(session, exchange=exchange)
    if now is None:
        return 0
    with engine.begin() as connection:  # the zones and their events in one transaction
        expired = expire_stale_patterns(connection, now_ms=now)
        record_events(
            connection,
            [zone_expired(p.symbol_id, p.id, p.timeframe, p.expired_at) for p in expired],
        )
    return len(expired)
