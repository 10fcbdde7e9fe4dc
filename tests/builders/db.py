"""Database builders: empty tables, a symbol row, candles stored as ingestion stores them."""

from __future__ import annotations

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.base import Base
from cryptolens.db.symbols import ensure_symbol
from cryptolens.detect import Candles
from cryptolens.services.market.candle_store import store_candles

HOUR = 3_600_000


def clear_tables(engine: Engine) -> None:
    """Delete every row, children before parents, in one transaction."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


def add_symbol(engine: Engine, symbol: str) -> int:
    with Session(engine) as session, session.begin():
        return ensure_symbol(session, exchange="binance", symbol=symbol).id


def store(engine: Engine, settings: Settings, symbol_id: int, candles: Candles) -> None:
    """Store base candles as ingestion would, with the exchange's clock at their close."""
    with engine.begin() as connection:
        store_candles(
            connection,
            symbol_id=symbol_id,
            base_timeframe=settings.base_timeframe,
            higher_timeframes=settings.higher_timeframes,
            candles=candles,
            now_ms=int(candles.open_time[-1]) + HOUR,
        )
