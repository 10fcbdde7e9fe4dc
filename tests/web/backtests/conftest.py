"""Backtest page fixtures: settings with the scanned timeframes and a public address, the
first 90 days of real BTC/USD hours stored as ingestion stores them, a signed-in Premium
user."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.detect import Candles
from cryptolens.market.simulator.demo import demo_datasets
from tests.builders.backtests_web import PUBLIC_URL, Member, member
from tests.builders.db import add_symbol, store
from tests.builders.settings import make_settings

DAYS = 90


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url=database_url,
        instance_dir=tmp_path / "instance",
        base_timeframe="1h",
        timeframes=("1h", "2h", "4h", "1d"),
        exchange_id="binance",
        public_url=PUBLIC_URL,
    )


@pytest.fixture(scope="session")
def btc_hours() -> Candles:
    ds = demo_datasets()["BTC/USDT"]
    return Candles(ds.open_time, ds.open, ds.high, ds.low, ds.close, ds.volume)


@pytest.fixture
def stored_btc(
    app: Flask, migrated_engine: Engine, settings: Settings, btc_hours: Candles
) -> Candles:
    """90 days of BTC/USDT hours (and their 2h, 4h and 1d candles); the app's teardown
    empties the tables."""
    hours = btc_hours[: DAYS * 24]
    store(migrated_engine, settings, add_symbol(migrated_engine, "BTC/USDT"), hours)
    return hours


@pytest.fixture
def premium_member(app: Flask) -> Member:
    return member(app, "tester@example.com")
