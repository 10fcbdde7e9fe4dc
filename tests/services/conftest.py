"""Scanner fixtures (real BTC/USD hours stored for a symbol) and, shared with the web tests,
the local SMTP server fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.symbols import ensure_symbol
from cryptolens.detect import Candles
from cryptolens.market.simulator.demo import demo_datasets
from cryptolens.services.market.candle_store import store_candles
from tests.conftest import clear_tables, make_settings
from tests.web.conftest import app, mailbox, smtp_server

__all__ = ["app", "mailbox", "smtp_server"]

HOUR = 3_600_000


@pytest.fixture(scope="session")
def btc_hours() -> Candles:
    ds = demo_datasets()["BTC/USDT"]
    return Candles(ds.open_time, ds.open, ds.high, ds.low, ds.close, ds.volume)


@pytest.fixture
def scan_settings(database_url: str) -> Settings:
    return make_settings(
        database_url=database_url,
        base_timeframe="1h",
        timeframes=("1h", "2h", "4h", "1d"),
        exchange_id="binance",
    )


@pytest.fixture
def scan_engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


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
