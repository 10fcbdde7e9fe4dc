"""Admin symbol management: backfill progress from stored counts and confirmed gaps, and a
purge that needs the symbol typed back."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.models import Candle, KnownGap, Symbol
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.services.market.symbols_admin import (
    purge_symbol,
    set_symbol_active,
    symbol_progress,
)
from tests.web.seeding import add_symbol

HOUR = 3_600_000


def _candles(session: Session, symbol_id: int, hours: list[int]) -> None:
    for h in hours:
        session.add(
            Candle(
                symbol_id=symbol_id,
                timeframe="1h",
                open_time=h * HOUR,
                open=1.0,
                high=1.0,
                low=1.0,
                close=1.0,
                volume=1.0,
            )
        )


def test_progress_counts_stored_candles_against_their_span_less_known_gaps(
    session: Session, settings: Settings
) -> None:
    settings = settings.model_copy(update={"base_timeframe": "1h"})
    full = add_symbol(session, "BTC/USDT")
    holed = add_symbol(session, "ETH/USDT")
    empty = add_symbol(session, "SOL/USDT")
    _candles(session, full, list(range(10)))
    _candles(session, holed, [0, 1, 2, 3, 8, 9])  # 4..7 missing, 6..7 confirmed by exchange
    session.add(
        KnownGap(
            symbol_id=holed,
            timeframe="1h",
            start_ms=6 * HOUR,
            end_ms=8 * HOUR,
            confirmed_at=utcnow(),
            reason="exchange has none",
        )
    )
    session.flush()
    found = {p.symbol: p for p in symbol_progress(session, settings)}
    assert (found["BTC/USDT"].candles, found["BTC/USDT"].complete) == (10, 1.0)
    assert found["ETH/USDT"].known_missing == 2
    assert found["ETH/USDT"].complete == pytest.approx(6 / 8)
    assert (found["SOL/USDT"].candles, found["SOL/USDT"].complete) == (0, None)
    assert empty == found["SOL/USDT"].id


def test_purge_needs_the_name_typed_back_and_deletes_the_candles(
    session: Session, settings: Settings
) -> None:
    sid = add_symbol(session, "BTC/USDT")
    _candles(session, sid, [0, 1])
    session.flush()
    with pytest.raises(ValidationError, match="Type BTC/USDT"):
        purge_symbol(session, settings, symbol_id=sid, typed="BTC")
    assert purge_symbol(session, settings, symbol_id=sid, typed=" btc/usdt ") == "BTC/USDT"
    session.flush()
    assert session.get(Symbol, sid) is None
    assert session.scalars(select(Candle).where(Candle.symbol_id == sid)).all() == []
    with pytest.raises(NotFoundError):
        set_symbol_active(session, settings, symbol_id=sid, active=True)
