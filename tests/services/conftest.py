"""Scanner fixtures: real BTC/USD hours, settings with the scanned timeframes, a clean engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.detect import Candles
from cryptolens.market.simulator.demo import demo_datasets
from tests.builders.db import clear_tables
from tests.builders.settings import make_settings


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
