"""Who owns what: an owner's portfolio or trade, or NotFoundError for anyone else's (never a
hint that it exists); and the plan limits on new portfolios and trades, asked of ``policy``."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.db.portfolio import Portfolio, Trade
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.plans import Plan
from cryptolens.domain.quiet_hours import zone
from cryptolens.services.accounts import policy


class Owner(Protocol):
    """The caller (``web.principal.Principal`` is one): whose rows, on which plan."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def plan(self) -> Plan: ...

    @property
    def is_admin(self) -> bool: ...


def owner_id(owner: Owner) -> int:
    """The owner's user id; NotFoundError for a caller who is nobody (nothing is theirs)."""
    if owner.user_id is None:
        raise NotFoundError("No such portfolio.")
    return owner.user_id


def owned_portfolio(session: Session, *, owner: Owner, portfolio_id: int) -> Portfolio:
    row = session.get(Portfolio, portfolio_id)
    if row is None or row.user_id != owner_id(owner):
        raise NotFoundError(f"No portfolio with id {portfolio_id}.")
    return row


def owned_trade(session: Session, *, owner: Owner, trade_id: int) -> Trade:
    row = session.get(Trade, trade_id)
    if row is None or row.user_id != owner_id(owner):
        raise NotFoundError(f"No trade with id {trade_id}.")
    return row


def owner_timezone(session: Session, *, owner: Owner, lock: bool = False) -> str:
    """The owner's time zone; with ``lock`` the user row is locked for the transaction, so
    two requests counting today's trades run one after the other (PostgreSQL, MariaDB)."""
    query = select(User.timezone).where(User.id == owner_id(owner))
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFoundError("No such user.")
    return found


def check_new_portfolio(session: Session, *, owner: Owner) -> None:
    """TierRequiredError if the owner's plan allows no (more) portfolios."""
    owner_timezone(session, owner=owner, lock=True)
    existing = session.scalar(
        select(func.count()).select_from(Portfolio).where(Portfolio.user_id == owner_id(owner))
    )
    policy.check_portfolio_count(owner, existing=int(existing or 0))


def check_new_trades(session: Session, *, owner: Owner, count: int, now: datetime) -> str:
    """TierRequiredError if ``count`` more trades today (the owner's local day) exceed the
    plan; returns the owner's time zone."""
    tz = owner_timezone(session, owner=owner, lock=True)
    if policy.portfolio_trades_per_day(owner) is None:
        return tz
    where = zone(tz)
    today = now.astimezone(where).date()
    start = datetime.combine(today, time(0), tzinfo=where)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=where)
    made = session.scalar(
        select(func.count())
        .select_from(Trade)
        .where(
            Trade.user_id == owner_id(owner),
            Trade.created_at >= start,
            Trade.created_at < end,
        )
    )
    policy.check_trades_today(owner, made=int(made or 0), adding=count)
    return tz
