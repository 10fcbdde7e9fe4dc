"""Symbols the application watches, per exchange."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.db.models import Symbol
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.symbols import parse_symbol, split_symbol


def get_symbol(session: Session, *, exchange: str, symbol: str) -> Symbol | None:
    return session.scalars(
        select(Symbol).where(Symbol.exchange == exchange, Symbol.symbol == parse_symbol(symbol))
    ).one_or_none()


def symbol_by_id(session: Session, *, symbol_id: int) -> Symbol | None:
    return session.get(Symbol, symbol_id)


def require_symbol(session: Session, *, exchange: str, symbol: str) -> Symbol:
    found = get_symbol(session, exchange=exchange, symbol=symbol)
    if found is None:
        raise NotFoundError(f"symbol {symbol} is not watched on {exchange}")
    return found


def ensure_symbol(session: Session, *, exchange: str, symbol: str) -> Symbol:
    """The watched symbol, created (or re-activated) if needed."""
    base, quote = split_symbol(symbol)
    found = get_symbol(session, exchange=exchange, symbol=symbol)
    if found is None:
        found = Symbol(exchange=exchange, symbol=f"{base}/{quote}", base=base, quote=quote)
        session.add(found)
        session.flush()
    elif not found.active:
        found.active = True
        found.deactivated_reason = None
    return found


def list_symbols(
    session: Session,
    *,
    exchange: str | None = None,
    active_only: bool = False,
    names: Collection[str] | None = None,
) -> list[Symbol]:
    """Symbols by exchange and name; ``names`` filters in the query (a per-symbol job must
    not read every symbol of the exchange)."""
    query = select(Symbol).order_by(Symbol.exchange, Symbol.symbol)
    if exchange is not None:
        query = query.where(Symbol.exchange == exchange)
    if names is not None:
        query = query.where(Symbol.symbol.in_(list(names)))
    if active_only:
        query = query.where(Symbol.active.is_(True))
    return list(session.scalars(query))


def deactivate_symbol(session: Session, *, symbol_id: int, reason: str) -> None:
    found = session.get(Symbol, symbol_id)
    if found is not None and found.active:
        found.active = False
        found.deactivated_reason = reason[:255]
