"""What the market data looks like right now: candles per symbol and timeframe, freshness."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.models import Candle, Symbol
from cryptolens.domain.timeframes import TIMEFRAME_MS


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    symbol: str
    exchange: str
    active: bool
    timeframe: str
    candles: int
    first_open_time: int
    last_open_time: int


def market_overview(session: Session) -> list[SeriesSummary]:
    """One row per stored (symbol, timeframe) series, in one query."""
    rows = session.execute(
        select(
            Symbol.symbol,
            Symbol.exchange,
            Symbol.active,
            Candle.timeframe,
            func.count(),
            func.min(Candle.open_time),
            func.max(Candle.open_time),
        )
        .join(Candle, Candle.symbol_id == Symbol.id)
        .group_by(Symbol.id, Symbol.symbol, Symbol.exchange, Symbol.active, Candle.timeframe)
    ).all()
    summaries = [SeriesSummary(*row) for row in rows]
    return sorted(summaries, key=lambda s: (s.symbol, TIMEFRAME_MS.get(s.timeframe, 0)))
