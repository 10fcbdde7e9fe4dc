"""Requests at once (threads, each with its own session and connection; on PostgreSQL and
MariaDB too, with TEST_DATABASE_URL): a Pro user's daily allowance of 5 new trades, and their
one portfolio, hold however many requests arrive together."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cryptolens.db.portfolio import Portfolio, Trade
from cryptolens.domain.errors import TierRequiredError
from cryptolens.extensions import db
from cryptolens.services.portfolio.access import owner_timezone
from cryptolens.services.portfolio.portfolios import PortfolioInput, create_portfolio
from cryptolens.services.portfolio.trades import create_trade
from tests.builders.portfolio import PortfolioOwner, TradeSpec, add_owner, add_portfolio

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REQUESTS = 8


@pytest.fixture
def engine(app: Flask) -> Iterator[Engine]:
    with app.app_context():
        yield db.engine


def _stored_owner(engine: Engine, plan: str, *, portfolios: int = 1) -> tuple[PortfolioOwner, int]:
    with Session(engine) as session, session.begin():
        owner = add_owner(session, plan=plan)
        ids = [add_portfolio(session, owner) for _ in range(portfolios)]
        return owner, ids[0] if ids else 0


Work = Callable[[Session, int], object]


def _together(engine: Engine, owner: PortfolioOwner, work: Work) -> list[str]:
    """``REQUESTS`` threads do ``work`` (given its session and thread number) and commit,
    released together after each has read the owner's row (as a request reads the signed-in
    user before it writes); what each got: "stored" or the error."""
    start = threading.Barrier(REQUESTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def one(number: int) -> None:
        outcome = "no outcome"
        try:
            with Session(engine) as session:
                owner_timezone(session, owner=owner)
                start.wait()
                try:
                    work(session, number)
                    session.commit()
                    outcome = "stored"
                except TierRequiredError as refused:
                    session.rollback()
                    outcome = str(refused)
        except BaseException as error:  # reported in the test's thread
            outcome = f"{type(error).__name__}: {error}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return outcomes


def _new_trade(owner: PortfolioOwner, portfolio_id: int) -> Work:
    def work(session: Session, _number: int) -> object:
        data = TradeSpec().input()
        return create_trade(session, owner=owner, portfolio_id=portfolio_id, data=data, now=NOW)

    return work


def _new_portfolio(owner: PortfolioOwner) -> Work:
    def work(session: Session, number: int) -> object:
        data = PortfolioInput(
            name=f"Swing {number}", quote_currency="USDT", initial_balance=Decimal(1000)
        )
        return create_portfolio(session, owner=owner, data=data, now=NOW)

    return work


def _stored(engine: Engine, owner: PortfolioOwner, model: type[Trade | Portfolio]) -> int:
    with Session(engine) as session:
        found = session.scalar(
            select(func.count()).select_from(model).where(model.user_id == owner.user_id)
        )
        return int(found or 0)


def test_eight_trades_at_once_store_five_for_a_pro_user_and_refuse_three(
    engine: Engine,
) -> None:
    owner, portfolio_id = _stored_owner(engine, "pro")
    outcomes = _together(engine, owner, _new_trade(owner, portfolio_id))
    assert outcomes.count("stored") == 5, outcomes
    refused = [o for o in outcomes if o != "stored"]
    assert len(refused) == 3
    assert all("more than 5 new trades a day (0 left today)" in o.lower() for o in refused), refused
    assert _stored(engine, owner, Trade) == 5


def test_eight_trades_at_once_are_all_stored_for_a_premium_user(engine: Engine) -> None:
    owner, portfolio_id = _stored_owner(engine, "premium")
    outcomes = _together(engine, owner, _new_trade(owner, portfolio_id))
    assert outcomes == ["stored"] * REQUESTS
    assert _stored(engine, owner, Trade) == REQUESTS


def test_a_pro_user_creating_portfolios_at_once_keeps_only_the_one_the_plan_allows(
    engine: Engine,
) -> None:
    owner, _ = _stored_owner(engine, "pro", portfolios=0)
    outcomes = _together(engine, owner, _new_portfolio(owner))
    assert outcomes.count("stored") == 1, outcomes
    refused = [o for o in outcomes if o != "stored"]
    assert all("more than 1 portfolio needs the premium plan" in o.lower() for o in refused), (
        refused
    )
    assert _stored(engine, owner, Portfolio) == 1
