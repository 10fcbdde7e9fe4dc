"""Scrape-time gauges: zones, users, subscriptions, queues and ingestion lag, read from the
stored state at each scrape."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import generate_latest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.accounts import Subscription, User
from cryptolens.detect import Candles
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.services.market.clock import record_market_now
from cryptolens.services.ops.metrics_gauges import StoreCollector, ingestion_lag_s
from tests.builders.db import add_symbol, store
from tests.builders.metrics import scraped
from tests.web.seeding import add_pattern

MINUTE = 60_000


def _scrape(engine: Engine, settings: Settings) -> str:
    collector = StoreCollector(
        engine, None, exchange=settings.exchange_id, base_timeframe=settings.base_timeframe
    )
    return generate_latest(collector).decode()


def _market_at(engine: Engine, settings: Settings, now_ms: int) -> None:
    with Session(engine) as session, session.begin():
        record_market_now(session, exchange=settings.exchange_id, now_ms=now_ms)


def test_lag_is_zero_while_only_the_candle_in_progress_is_missing() -> None:
    # Market at 10:30: the 10:00 hour is in progress, 09:00 is the newest closed one.
    now = 10 * HOUR_MS + 30 * MINUTE
    assert ingestion_lag_s(9 * HOUR_MS, base_ms=HOUR_MS, market_now_ms=now) == 0
    assert ingestion_lag_s(7 * HOUR_MS, base_ms=HOUR_MS, market_now_ms=now) == 7200
    assert ingestion_lag_s(10 * HOUR_MS, base_ms=HOUR_MS, market_now_ms=now) == 0


def test_open_zones_are_counted_by_type_and_closed_ones_are_not(
    scan_engine: Engine, scan_settings: Settings
) -> None:
    sid = add_symbol(scan_engine, "BTC/USDT")
    with Session(scan_engine) as session, session.begin():
        add_pattern(session, symbol_id=sid)
        add_pattern(session, symbol_id=sid, status="touched")
        add_pattern(session, symbol_id=sid, pattern_type="order_block")
        add_pattern(session, symbol_id=sid, status="filled")
    text = _scrape(scan_engine, scan_settings)
    assert scraped(text, "cryptolens_patterns_active", type="fvg") == 2
    assert scraped(text, "cryptolens_patterns_active", type="order_block") == 1
    assert scraped(text, "cryptolens_patterns_active") == 3


def test_active_users_and_running_subscriptions_are_counted(
    scan_engine: Engine, scan_settings: Settings
) -> None:
    now = utcnow()
    with Session(scan_engine) as session, session.begin():
        users = [User(email=f"u{n}@x.test", password_hash="x") for n in range(4)]
        users[3].active = False
        session.add_all(users)
        session.flush()
        session.add_all(
            [
                Subscription(user_id=users[0].id, plan="pro", expires_at=now + timedelta(days=9)),
                Subscription(user_id=users[1].id, plan="premium", expires_at=None),
                Subscription(
                    user_id=users[2].id,
                    plan="premium",
                    started_at=now - timedelta(days=60),
                    expires_at=now - timedelta(days=30),
                ),
            ]
        )
    text = _scrape(scan_engine, scan_settings)
    assert scraped(text, "cryptolens_users_active") == 3
    assert scraped(text, "cryptolens_subscriptions_active", plan="pro") == 1
    assert scraped(text, "cryptolens_subscriptions_active", plan="premium") == 1


def test_ingestion_lag_per_symbol_follows_the_market_clock(
    scan_engine: Engine, scan_settings: Settings, btc_hours: Candles
) -> None:
    btc, eth = add_symbol(scan_engine, "BTC/USDT"), add_symbol(scan_engine, "ETH/USDT")
    store(scan_engine, scan_settings, btc, btc_hours[:50])
    store(scan_engine, scan_settings, eth, btc_hours[:47])
    _market_at(scan_engine, scan_settings, int(btc_hours.open_time[49]) + HOUR_MS)
    text = _scrape(scan_engine, scan_settings)
    assert scraped(text, "cryptolens_ingestion_lag_seconds", symbol="BTC/USDT") == 0
    assert scraped(text, "cryptolens_ingestion_lag_seconds", symbol="ETH/USDT") == 3 * 3600

    # The exchange's clock moves on two hours and nothing new is stored: both fall behind.
    _market_at(scan_engine, scan_settings, int(btc_hours.open_time[49]) + 3 * HOUR_MS)
    text = _scrape(scan_engine, scan_settings)
    assert scraped(text, "cryptolens_ingestion_lag_seconds", symbol="BTC/USDT") == 2 * 3600
    assert scraped(text, "cryptolens_ingestion_lag_seconds", symbol="ETH/USDT") == 5 * 3600
    assert scraped(text, "cryptolens_market_clock_age_seconds") > 0


def test_a_database_that_does_not_answer_leaves_its_gauges_out(
    scan_settings: Settings, tmp_path: object
) -> None:
    broken = create_engine(f"sqlite:///{tmp_path}/missing/nowhere.sqlite")
    text = _scrape(broken, scan_settings)
    assert scraped(text, "cryptolens_metrics_source_up", source="database") == 0
    assert "cryptolens_users_active" not in text
