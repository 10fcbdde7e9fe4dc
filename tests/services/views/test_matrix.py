from __future__ import annotations

from sqlalchemy.orm import Session

from cryptolens.db.candles import upsert_candles
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.market.synthetic import synthetic_candles
from cryptolens.services.market.clock import record_market_now
from cryptolens.services.views.matrix import data_freshness, pattern_matrix
from tests.web.seeding import EXCHANGE, T0, add_pattern, add_symbol


def test_matrix_counts_open_zones_by_type_and_direction(session: Session) -> None:
    btc = add_symbol(session, "BTC/USDT")
    add_symbol(session, "ETH/USDT")
    for status in ("active", "touched", "filled"):
        add_pattern(session, symbol_id=btc, timeframe="1h", status=status)
    add_pattern(
        session, symbol_id=btc, timeframe="1h", direction="bearish", pattern_type="order_block"
    )
    add_pattern(session, symbol_id=btc, timeframe="1d", pattern_type="liquidity_sweep")
    session.commit()
    matrix = pattern_matrix(session, timeframes=("1h", "4h"))
    assert matrix.symbols == ("BTC/USDT", "ETH/USDT")
    assert matrix.timeframes == ("1h", "4h", "1d")  # a stored timeframe is never hidden
    cell = matrix.cell("BTC/USDT", "1h")
    assert cell.counts == (("fvg", "bullish", 2), ("order_block", "bearish", 1))
    assert (cell.total, cell.count("bullish"), cell.count("bearish")) == (3, 2, 1)
    assert matrix.cell("ETH/USDT", "1h").total == 0


def test_freshness_counts_closed_candles_missing_before_the_market_clock(
    session: Session,
) -> None:
    btc = add_symbol(session, "BTC/USDT")
    add_symbol(session, "ETH/USDT")
    candles = synthetic_candles(10, start_ms=T0, step_ms=HOUR_MS)
    upsert_candles(session.connection(), symbol_id=btc, timeframe="1h", candles=candles)
    # Candles open T0..T0+9h; the market is at T0+13h30: the newest closed opened at T0+12h.
    record_market_now(session, exchange=EXCHANGE, now_ms=T0 + 13 * HOUR_MS + HOUR_MS // 2)
    session.commit()
    freshness = data_freshness(session, exchange=EXCHANGE, timeframes=("1h", "4h"))
    states = {(s.symbol, s.timeframe): (s.candles_behind, s.state) for s in freshness.series}
    assert states[("BTC/USDT", "1h")] == (3, "stale")
    assert states[("BTC/USDT", "4h")] == (None, "missing")
    assert states[("ETH/USDT", "1h")] == (None, "missing")
    assert freshness.market_now == T0 + 13 * HOUR_MS + HOUR_MS // 2
