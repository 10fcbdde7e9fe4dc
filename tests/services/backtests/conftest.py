"""A database holding the first 90 days of real BTC/USD hours, stored as ingestion stores them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.detect import Candles
from tests.builders.db import add_symbol, clear_tables, store

DAYS = 90


@pytest.fixture
def stored_btc(
    migrated_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> Iterator[Candles]:
    clear_tables(migrated_engine)
    hours = btc_hours[: DAYS * 24]
    store(migrated_engine, scan_settings, add_symbol(migrated_engine, "BTC/USDT"), hours)
    yield hours
    clear_tables(migrated_engine)
