from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cryptolens.db.models import Candle, JobRun, Pattern, Symbol


def _symbol(session: Session) -> Symbol:
    symbol = Symbol(exchange="binance", symbol="BTC/USDT", base="BTC", quote="USDT")
    session.add(symbol)
    session.flush()
    return symbol


def test_prices_keep_double_precision(session: Session) -> None:
    symbol = _symbol(session)
    # Values a single-precision float would round: a large cap and a micro cap.
    session.add(
        Candle(
            symbol_id=symbol.id,
            timeframe="1m",
            open_time=1_700_000_000_000,
            open=64123.123456789,
            high=64123.987654321,
            low=0.000012345678901,
            close=0.1 + 0.2,
            volume=123456789.123456,
        )
    )
    session.commit()
    session.expire_all()
    candle = session.scalars(select(Candle)).one()
    assert candle.open == 64123.123456789
    assert candle.high == 64123.987654321
    assert candle.low == 0.000012345678901
    assert candle.close == 0.1 + 0.2
    assert candle.volume == 123456789.123456
    assert candle.complete is True


def test_a_candle_is_unique_per_symbol_timeframe_and_time(session: Session) -> None:
    symbol = _symbol(session)
    values = {"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10.0}
    session.add(Candle(symbol_id=symbol.id, timeframe="1m", open_time=0, **values))
    session.commit()
    session.add(Candle(symbol_id=symbol.id, timeframe="1m", open_time=0, **values))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(Candle(symbol_id=symbol.id, timeframe="5m", open_time=0, **values))
    session.commit()


def test_a_pattern_is_unique_on_its_identity(session: Session) -> None:
    symbol = _symbol(session)

    def pattern() -> Pattern:
        return Pattern(
            symbol_id=symbol.id,
            timeframe="1h",
            pattern_type="fvg",
            direction="bullish",
            zone_low=1.0,
            zone_high=2.0,
            candle_time=0,
            formed_at=3_600_000,
            strength=0.5,
            expires_at=10**10,
        )

    session.add(pattern())
    session.commit()
    session.add(pattern())
    with pytest.raises(IntegrityError):
        session.commit()


def test_datetimes_come_back_aware_in_utc_with_microseconds(session: Session) -> None:
    started = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    session.add(JobRun(name="scan", started_at=started, counts={"symbols": 3}))
    session.commit()
    session.expire_all()
    run = session.scalars(select(JobRun)).one()
    assert run.started_at == started
    assert run.started_at.tzinfo is UTC
    assert run.started_at.hour == 10
    assert run.counts == {"symbols": 3}


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(JobRun(name="scan", started_at=datetime(2024, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()
    session.rollback()
