"""Portfolio rows for the web tests: a user's portfolio with an open and a closed trade and a
journal entry, made straight through the builders and services (no plan checks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cryptolens.db.portfolio import TradeFill
from cryptolens.domain.plans import Plan
from cryptolens.domain.trades import Side
from cryptolens.extensions import db
from cryptolens.services.portfolio.journal import JournalInput, add_entry
from tests.builders.portfolio import T0, PortfolioOwner, TradeSpec, add_portfolio, add_trade


@dataclass(frozen=True, slots=True)
class Seeded:
    """Ids of one owner's portfolio, its open and closed trades and its journal entry."""

    portfolio: int
    open_trade: int
    closed_trade: int
    #: The closed trade's exit fill.
    exit_fill: int
    entry: int

    def paths(self) -> dict[str, int]:
        """Placeholders of path templates: ``{portfolio}``, ``{open_trade}``…"""
        return {
            "portfolio": self.portfolio,
            "open_trade": self.open_trade,
            "closed_trade": self.closed_trade,
            "exit_fill": self.exit_fill,
            "entry": self.entry,
        }


def seed_portfolio(
    app: Flask, user_id: int, *, name: str = "Main", signal_id: int | None = None
) -> Seeded:
    """A portfolio of ``user_id`` with an open trade, a closed one (linked to ``signal_id``)
    and a journal entry about the closed trade."""
    owner = PortfolioOwner(user_id, Plan.PREMIUM)
    with app.app_context():
        session = db.session()
        portfolio = add_portfolio(session, owner, name=name)
        open_trade = add_trade(session, owner, portfolio, TradeSpec(exits=(), tags=("breakout",)))
        closed = TradeSpec(
            exits=(("110", "1"),), setup="retest", tags=("fvg",), signal_id=signal_id
        )
        closed_trade = add_trade(session, owner, portfolio, closed)
        entry = add_entry(
            session,
            owner=owner,
            portfolio_id=portfolio,
            data=JournalInput(
                day=T0.date(), body="Waited for the **retest**.", trade_id=closed_trade
            ),
            now=datetime.now(UTC),
        )
        exit_fill = session.scalars(
            select(TradeFill.id).where(
                TradeFill.trade_id == closed_trade, TradeFill.side == Side.EXIT.value
            )
        ).one()
        session.commit()
    return Seeded(portfolio, open_trade, closed_trade, exit_fill, entry.id)


@dataclass(frozen=True)
class Trader:
    """A signed-in test client of a verified user with a seeded portfolio."""

    client: FlaskClient
    user_id: int
    seeded: Seeded


def make_trader(app: Flask, client: FlaskClient, user_id: int) -> Trader:
    """``client`` (signed in as ``user_id``) with a seeded portfolio of that user."""
    return Trader(client, user_id, seed_portfolio(app, user_id))


def count_rows(app: Flask, model: type[Any], **where: object) -> int:
    """Rows of ``model`` matching ``where`` (column = value)."""
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(db.session.scalar(query) or 0)
