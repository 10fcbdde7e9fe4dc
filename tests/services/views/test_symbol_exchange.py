"""The same symbol on two exchanges: every lookup the web uses reads the configured one only."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cryptolens.db.candles import upsert_candles
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.market.synthetic import synthetic_candles
from cryptolens.services.views.chart import (
    chart_candles,
    chart_signals,
    chart_zones,
    parse_chart_query,
    symbol_id_for,
)
from cryptolens.services.views.listing import PageRequest
from cryptolens.services.views.signal_list import SignalFilters, list_signals
from cryptolens.services.views.zone_list import PatternFilters, list_patterns
from tests.web.seeding import EXCHANGE, T0, add_pattern, add_signal, add_symbol

OTHER = "kraken"


@pytest.fixture
def two_exchanges(session: Session) -> tuple[int, int]:
    """BTC/USDT on the other exchange first (the lower id), then on the configured one."""
    other = add_symbol(session, "BTC/USDT", exchange=OTHER)
    mine = add_symbol(session, "BTC/USDT", exchange=EXCHANGE)
    for symbol_id, seed in ((other, 1), (mine, 2)):
        candles = synthetic_candles(5, seed=seed, start_ms=T0, step_ms=HOUR_MS)
        upsert_candles(session.connection(), symbol_id=symbol_id, timeframe="1h", candles=candles)
        add_pattern(session, symbol_id=symbol_id)
        add_signal(session, symbol_id=symbol_id)
    session.commit()
    return other, mine


def test_the_chart_reads_the_symbol_of_the_configured_exchange(
    session: Session, two_exchanges: tuple[int, int]
) -> None:
    _, mine = two_exchanges
    assert symbol_id_for(session, exchange=EXCHANGE, symbol="BTC/USDT") == mine
    query = parse_chart_query({"symbol": "btc/usdt"}, exchange=EXCHANGE, default_timeframe="1h")
    mine_candles = synthetic_candles(5, seed=2, start_ms=T0, step_ms=HOUR_MS)
    assert chart_candles(session, query=query).close == tuple(mine_candles.close.tolist())
    assert len(chart_zones(session, query=query)) == 1
    (signal,) = chart_signals(session, exchange=EXCHANGE, symbol="BTC/USDT", limit=10)
    assert signal.symbol == "BTC/USDT"
    with pytest.raises(NotFoundError, match="binance"):
        symbol_id_for(session, exchange=EXCHANGE, symbol="ETH/USDT")


def test_pattern_and_signal_lists_show_only_the_configured_exchange(
    session: Session, two_exchanges: tuple[int, int]
) -> None:
    page = PageRequest(1, 10)
    for filters in (PatternFilters(), PatternFilters(symbol="BTC/USDT")):
        assert len(list_patterns(session, exchange=EXCHANGE, filters=filters, page=page).rows) == 1
    for wanted in (SignalFilters(), SignalFilters(symbol="BTC/USDT")):
        assert len(list_signals(session, exchange=EXCHANGE, filters=wanted, page=page).rows) == 1
