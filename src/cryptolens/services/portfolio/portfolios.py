"""A user's portfolios: create (within the plan), edit, delete, list, read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from cryptolens.db.portfolio import Portfolio, Trade
from cryptolens.domain.plans import Capability
from cryptolens.domain.portfolio_rules import (
    check_balance,
    check_currency,
    check_name,
    check_text,
)
from cryptolens.domain.trades import FieldError
from cryptolens.services.accounts import policy
from cryptolens.services.portfolio import revision
from cryptolens.services.portfolio.access import (
    Owner,
    check_new_portfolio,
    owned_portfolio,
    owner_id,
)


@dataclass(frozen=True, slots=True)
class PortfolioInput:
    name: str
    quote_currency: str
    initial_balance: Decimal
    description: str = ""


@dataclass(frozen=True, slots=True)
class PortfolioInfo:
    id: int
    name: str
    description: str
    quote_currency: str
    initial_balance: Decimal
    created_at: datetime
    trades: int
    open_trades: int


def _checked(data: PortfolioInput) -> PortfolioInput:
    return PortfolioInput(
        name=check_name("name", data.name, "Name"),
        quote_currency=check_currency(data.quote_currency),
        initial_balance=check_balance(data.initial_balance),
        description=check_text("description", data.description, "Description"),
    )


def _check_unique(session: Session, *, user_id: int, name: str, other_than: int | None) -> None:
    query = select(Portfolio.id).where(Portfolio.user_id == user_id, Portfolio.name == name)
    found = session.scalar(query)
    if found is not None and found != other_than:
        raise FieldError("name", f"You already have a portfolio named {name!r}.")


def _counts(session: Session, portfolio_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not portfolio_ids:
        return {}
    rows = session.execute(
        select(
            Trade.portfolio_id,
            func.count(),
            func.coalesce(func.sum(case((Trade.status == "open", 1), else_=0)), 0),
        )
        .where(Trade.portfolio_id.in_(portfolio_ids))
        .group_by(Trade.portfolio_id)
    ).all()
    return {pid: (int(total), int(open_)) for pid, total, open_ in rows}


def _info(row: Portfolio, counts: tuple[int, int]) -> PortfolioInfo:
    return PortfolioInfo(
        id=row.id,
        name=row.name,
        description=row.description,
        quote_currency=row.quote_currency,
        initial_balance=row.initial_balance,
        created_at=row.created_at,
        trades=counts[0],
        open_trades=counts[1],
    )


def create_portfolio(
    session: Session, *, owner: Owner, data: PortfolioInput, now: datetime
) -> PortfolioInfo:
    """A new portfolio; FieldError for bad input, TierRequiredError beyond the plan."""
    checked = _checked(data)
    check_new_portfolio(session, owner=owner)
    _check_unique(session, user_id=owner_id(owner), name=checked.name, other_than=None)
    row = Portfolio(
        user_id=owner_id(owner),
        name=checked.name,
        description=checked.description,
        quote_currency=checked.quote_currency,
        initial_balance=checked.initial_balance,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _info(row, (0, 0))


def update_portfolio(
    session: Session, *, owner: Owner, portfolio_id: int, data: PortfolioInput, now: datetime
) -> PortfolioInfo:
    """Change a portfolio's name, description, currency or balance."""
    row = owned_portfolio(session, owner=owner, portfolio_id=portfolio_id)
    policy.require(owner, Capability.PORTFOLIO)
    checked = _checked(data)
    _check_unique(session, user_id=row.user_id, name=checked.name, other_than=row.id)
    # The balance is in the drawdown and every point of the equity curve.
    revision.touch(session, row.id)
    row.name = checked.name
    row.description = checked.description
    row.quote_currency = checked.quote_currency
    row.initial_balance = checked.initial_balance
    row.updated_at = now
    session.flush()
    return _info(row, _counts(session, [row.id]).get(row.id, (0, 0)))


def delete_portfolio(session: Session, *, owner: Owner, portfolio_id: int) -> None:
    """Delete a portfolio with its trades and journal (allowed on any plan: it is their data)."""
    row = owned_portfolio(session, owner=owner, portfolio_id=portfolio_id)
    # The foreign keys cascade to trades, fills, tags and journal entries.
    session.execute(delete(Portfolio).where(Portfolio.id == row.id))
    session.expunge(row)


def list_portfolios(session: Session, *, owner: Owner) -> list[PortfolioInfo]:
    """The owner's portfolios by name, with their trade counts (two queries)."""
    rows = list(
        session.scalars(
            select(Portfolio).where(Portfolio.user_id == owner_id(owner)).order_by(Portfolio.name)
        )
    )
    counts = _counts(session, [r.id for r in rows])
    return [_info(r, counts.get(r.id, (0, 0))) for r in rows]


def get_portfolio(session: Session, *, owner: Owner, portfolio_id: int) -> PortfolioInfo:
    row = owned_portfolio(session, owner=owner, portfolio_id=portfolio_id)
    return _info(row, _counts(session, [row.id]).get(row.id, (0, 0)))
