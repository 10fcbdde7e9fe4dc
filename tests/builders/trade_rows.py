"""Trade rows written straight to the tables (bulk inserts), for the analytics tests: each
row carries only the derived figures analytics reads, consistent with one entry and one exit
(the fills themselves are not needed there)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.db.portfolio import Portfolio, Trade, TradeTag

#: A Monday, 00:00 UTC.
MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
RISK = Decimal(500)


@dataclass(frozen=True, slots=True)
class Owner:
    id: int


def add_owner(session: Session, email: str) -> Owner:
    user = User(email=email, password_hash="!")
    session.add(user)
    session.flush()
    return Owner(user.id)


def add_portfolio(
    session: Session, owner: Owner, *, initial: str = "10000", name: str = "Main"
) -> int:
    portfolio = Portfolio(
        user_id=owner.id, name=name, quote_currency="USDT", initial_balance=Decimal(initial)
    )
    session.add(portfolio)
    session.flush()
    return portfolio.id


@dataclass(frozen=True, slots=True)
class Closed:
    """A closed trade: its P&L, when it closed (hours after ``MONDAY``) and its labels."""

    pnl: str
    hours: float
    symbol: str = "BTC/USDT"
    direction: str = "long"
    setup: str | None = None
    tags: tuple[str, ...] = ()
    signal_id: int | None = None
    #: None: P&L / ``RISK``.
    r: str | None = "auto"


def trade_row(
    portfolio_id: int, owner: Owner, trade: Closed, *, open_: bool = False
) -> dict[str, Any]:
    closed_at = MONDAY + timedelta(hours=trade.hours)
    opened_at = closed_at - timedelta(hours=2)
    pnl = Decimal(trade.pnl)
    r = (pnl / RISK) if trade.r == "auto" else (None if trade.r is None else Decimal(trade.r))
    return {
        "portfolio_id": portfolio_id,
        "user_id": owner.id,
        "symbol": trade.symbol,
        "direction": trade.direction,
        "status": "open" if open_ else "closed",
        "planned_stop": Decimal(95),
        "setup": trade.setup,
        "signal_id": trade.signal_id,
        "opened_at": opened_at,
        "closed_at": None if open_ else closed_at,
        "quantity": Decimal(100),
        "open_quantity": Decimal(100) if open_ else Decimal(0),
        "avg_entry": Decimal(100),
        "avg_exit": None if open_ else Decimal(100) + pnl / 100,
        "fees": Decimal(0),
        "realized_pnl": Decimal(0) if open_ else pnl,
        "risk_amount": RISK,
        "r_multiple": None if open_ else r,
        "holding_seconds": None if open_ else 7200,
        "local_weekday": None if open_ else closed_at.weekday(),
        "local_hour": None if open_ else closed_at.hour,
    }


def add_trades(
    session: Session,
    portfolio_id: int,
    owner: Owner,
    trades: Sequence[Closed],
    *,
    open_: bool = False,
) -> list[int]:
    """Insert the trades (and their tags) in bulk; their ids in order."""
    rows = [trade_row(portfolio_id, owner, trade, open_=open_) for trade in trades]
    session.execute(insert(Trade), rows)
    ids = list(
        session.scalars(
            select(Trade.id).where(Trade.portfolio_id == portfolio_id).order_by(Trade.id.desc())
        ).all()[: len(rows)]
    )[::-1]
    tags = [
        {"trade_id": trade_id, "tag": tag}
        for trade_id, trade in zip(ids, trades, strict=True)
        for tag in trade.tags
    ]
    if tags:
        session.execute(insert(TradeTag), tags)
    return ids
