"""Watched symbols as an administrator manages them: add after the exchange confirms it
lists the pair, (de)activate, purge with the symbol typed back, and backfill progress from
the stored candle counts and the gaps the exchange confirmed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.models import Candle, KnownGap, Symbol
from cryptolens.db.symbols import ensure_symbol, list_symbols
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.domain.symbols import parse_symbol
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.services.market.ingest import exchange_client


@dataclass(frozen=True, slots=True)
class SymbolProgress:
    id: int
    symbol: str
    active: bool
    reason: str | None
    candles: int
    first_ms: int | None
    last_ms: int | None
    #: Candles the exchange confirmed it does not have, inside the stored span.
    known_missing: int
    #: Stored / expected between the first and last stored candle (1.0: no hole).
    complete: float | None


def check_listed(settings: Settings, symbol: str) -> str:
    """The symbol in its canonical form once the configured exchange says it lists it;
    UnknownSymbolError when it does not, CryptoLensError when it cannot be asked."""
    name = parse_symbol(symbol)

    async def ask() -> None:
        async with exchange_client(settings) as client:
            await client.market(name)

    asyncio.run(ask())
    return name


def add_symbol(session: Session, settings: Settings, symbol: str) -> Symbol:
    """Watch ``symbol`` (re-activating it when it was stopped); the caller checked it."""
    return ensure_symbol(session, exchange=settings.exchange_id, symbol=symbol)


def _symbol(session: Session, settings: Settings, symbol_id: int) -> Symbol:
    found = session.get(Symbol, symbol_id)
    if found is None or found.exchange != settings.exchange_id:
        raise NotFoundError("No such symbol.")
    return found


def set_symbol_active(
    session: Session, settings: Settings, *, symbol_id: int, active: bool
) -> Symbol:
    found = _symbol(session, settings, symbol_id)
    found.active = active
    found.deactivated_reason = None if active else "stopped by an administrator"
    return found


def purge_symbol(session: Session, settings: Settings, *, symbol_id: int, typed: str) -> str:
    """Delete a symbol with its candles, zones and signals; ``typed`` must be its name (a
    confirmation), else ValidationError. Returns the name."""
    found = _symbol(session, settings, symbol_id)
    if typed.strip().upper() != found.symbol:
        raise ValidationError(f"Type {found.symbol} to confirm the purge.")
    name = found.symbol
    session.delete(found)
    return name


def symbol_progress(session: Session, settings: Settings) -> list[SymbolProgress]:
    """Every symbol of the configured exchange with its base-timeframe backfill progress."""
    base = settings.base_timeframe
    step = timeframe_ms(base)
    spans = {
        row.symbol_id: row
        for row in session.execute(
            select(
                Candle.symbol_id,
                func.count().label("n"),
                func.min(Candle.open_time).label("first"),
                func.max(Candle.open_time).label("last"),
            )
            .where(Candle.timeframe == base)
            .group_by(Candle.symbol_id)
        )
    }
    gaps: dict[int, list[tuple[int, int]]] = {}
    for gap in session.execute(
        select(KnownGap.symbol_id, KnownGap.start_ms, KnownGap.end_ms).where(
            KnownGap.timeframe == base
        )
    ):
        gaps.setdefault(gap.symbol_id, []).append((gap.start_ms, gap.end_ms))
    out = []
    for s in list_symbols(session, exchange=settings.exchange_id):
        span = spans.get(s.id)
        if span is None:
            out.append(
                SymbolProgress(
                    s.id, s.symbol, s.active, s.deactivated_reason, 0, None, None, 0, None
                )
            )
            continue
        first, last = int(span.first), int(span.last)
        missing = sum(
            max(0, min(end, last + step) - max(start, first)) // step
            for start, end in gaps.get(s.id, [])
        )
        expected = (last - first) // step + 1 - missing
        complete = min(1.0, int(span.n) / expected) if expected > 0 else 1.0
        out.append(
            SymbolProgress(
                s.id,
                s.symbol,
                s.active,
                s.deactivated_reason,
                int(span.n),
                first,
                last,
                missing,
                complete,
            )
        )
    return out
