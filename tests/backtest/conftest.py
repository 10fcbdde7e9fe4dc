"""Backtest fixtures: the real BTC/USD hourly history and a clean migrated database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from cryptolens.detect import Candles
from cryptolens.market.simulator.demo import demo_datasets
from tests.builders.db import clear_tables


@pytest.fixture(scope="session")
def btc_hours() -> Candles:
    ds = demo_datasets()["BTC/USDT"]
    return Candles(ds.open_time, ds.open, ds.high, ds.low, ds.close, ds.volume)


@pytest.fixture
def clean_engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)
