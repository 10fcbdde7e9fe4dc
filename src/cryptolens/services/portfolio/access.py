"""Who owns what: an owner's portfolio or trade, or NotFoundError for anyone else's (never a
hint that it exists); and the plan limits on new portfolios and trades, asked of ``policy``.

The limits are check-then-insert, so two requests of one owner must not check at once: the
check first locks the owner's user row for the rest of the transaction (``lock_owner``), then
counts with a locking read, which sees every row committed before the lock was granted."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Protocol

from sqlalchemy import Select, select, update
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


def owner_timezone(session: Session, *, owner: Owner) -> str:
    """The owner's time zone."""
    found = session.scalar(select(User.timezone).where(User.id == owner_id(owner)))
    if found is None:
        raise NotFoundError("No such user.")
    return found


def lock_owner(session: Session, *, owner: Owner) -> str:
    """Lock the owner's user row until the transaction ends, so that two requests of one
    owner counting their portfolios or today's trades run one after the other; returns the
    owner's time zone.

    An UPDATE that changes nothing is the one lock all three databases take: a row lock on
    PostgreSQL and MariaDB, and SQLite's write lock (where SELECT ... FOR UPDATE is ignored
    and a read would not stop another connection from writing before this one does)."""
    user_id = owner_id(owner)
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(timezone=User.timezone)
        .execution_options(synchronize_session=False)
    )
    return owner_timezone(session, owner=owner)


def _locked_count(session: Session, ids: Select[int]) -> int:
    # A locking read: MariaDB's repeatable read would otherwise answer from the snapshot of
    # the transaction's first read, taken before the owner's lock was granted.
    return len(session.scalars(ids.with_for_update(read=True)).all())


def check_new_portfolio(session: Session, *, owner: Owner) -> None:
    """TierRequiredError if the owner's plan allows no (more) portfolios."""
    lock_owner(session, owner=owner)
    existing = _locked_count(
        session, select(Portfolio.id).where(Portfolio.user_id == owner_id(owner))
    )
    policy.check_portfolio_count(owner, existing=existing)


def check_new_trades(session: Session, *, owner: Owner, count: int, now: datetime) -> str:
    """TierRequiredError if ``count`` more trades today (the owner's local day) exceed the
    plan; returns the owner's time zone."""
    tz = lock_owner(session, owner=owner)
    if policy.portfolio_trades_per_day(owner) is None:
        return tz
    where = zone(tz)
    today = now.astimezone(where).date()
    start = datetime.combine(today, time(0), tzinfo=where)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=where)
    made = _locked_count(
        session,
        select(Trade.id).where(
            Trade.user_id == owner_id(owner),
            Trade.created_at >= start,
            Trade.created_at < end,
        ),
    )
    policy.check_trades_today(owner, made=made, adding=count)
    return tz
