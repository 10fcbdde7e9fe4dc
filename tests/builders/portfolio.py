"""Rows for the portfolio tests (and the analytics tests, pages and benchmark): owners on a
plan, portfolios, trades built from fills through ``domain.trades`` (so their figures are the
ones the service would store), and many closed trades at once."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import Subscription, User
from cryptolens.db.portfolio import Portfolio, Trade, TradeFill, TradeTag
from cryptolens.domain.plans import Plan
from cryptolens.domain.trades import Fill, Side
from cryptolens.services.portfolio.trades import (
    TradeInput,
    apply_figures,
    check_trade,
    insert_trades,
)

#: A Monday, 09:00 UTC, long enough ago that fills are never in the future.
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
D = Decimal
_unique = count(1)


@dataclass(frozen=True, slots=True)
class PortfolioOwner:
    """A caller as the portfolio services take one (``services.portfolio.access.Owner``)."""

    user_id: int | None
    plan: Plan = Plan.PREMIUM
    is_admin: bool = False


def add_owner(
    session: Session, *, plan: str = "premium", timezone: str = "UTC", admin: bool = False
) -> PortfolioOwner:
    """A verified user on ``plan`` ("free", "pro", "premium"), or an admin (on Free)."""
    n = next(_unique)
    user = User(
        email=f"owner{n}@portfolio.test",
        password_hash="x",
        role="admin" if admin else "user",
        email_verified_at=T0,
        timezone=timezone,
        created_at=T0,
    )
    session.add(user)
    session.flush()
    if plan != "free":
        session.add(Subscription(user_id=user.id, plan=plan, started_at=T0, expires_at=None))
        session.flush()
    return PortfolioOwner(user.id, Plan(plan), admin)


def add_portfolio(
    session: Session,
    owner: PortfolioOwner,
    *,
    name: str | None = None,
    currency: str = "USDT",
    balance: str = "10000",
) -> int:
    """A portfolio row of ``owner`` (no plan check)."""
    assert owner.user_id is not None
    row = Portfolio(
        user_id=owner.user_id,
        name=name or f"Portfolio {next(_unique)}",
        quote_currency=currency,
        initial_balance=D(balance),
    )
    session.add(row)
    session.flush()
    return row.id


@dataclass(frozen=True, slots=True)
class TradeSpec:
    """A trade by its fills: ``entries`` and ``exits`` as (price, quantity[, fee]) texts, the
    n-th at ``opened_at + n * step``, exits after every entry."""

    symbol: str = "BTC/USDT"
    direction: str = "long"
    entries: Sequence[tuple[str, ...]] = (("100", "1"),)
    exits: Sequence[tuple[str, ...]] = (("110", "1"),)
    stop: str = "95"
    targets: tuple[str | None, ...] = ()
    opened_at: datetime = T0
    step: timedelta = timedelta(hours=1)
    tags: tuple[str, ...] = ()
    setup: str = ""
    notes: str = ""
    mistakes: str = ""
    emotions: str = ""
    signal_id: int | None = None

    def fills(self) -> tuple[Fill, ...]:
        made: list[Fill] = []
        for side, rows in ((Side.ENTRY, self.entries), (Side.EXIT, self.exits)):
            for price, quantity, *fee in rows:
                at = self.opened_at + self.step * len(made)
                made.append(Fill(side, at, D(price), D(quantity), D(fee[0] if fee else "0")))
        return tuple(made)

    def input(self) -> TradeInput:
        return TradeInput(
            symbol=self.symbol,
            direction=self.direction,
            planned_stop=D(self.stop),
            fills=self.fills(),
            targets=tuple(None if t is None else D(t) for t in self.targets),
            setup=self.setup,
            notes=self.notes,
            mistakes=self.mistakes,
            emotions=self.emotions,
            tags=self.tags,
            signal_id=self.signal_id,
        )


def add_trade(
    session: Session,
    owner: PortfolioOwner,
    portfolio_id: int,
    spec: TradeSpec | None = None,
    *,
    timezone: str = "UTC",
    created_at: datetime | None = None,
) -> int:
    """A trade as the service stores it (figures from its fills), without plan checks."""
    assert owner.user_id is not None
    checked = check_trade((spec or TradeSpec()).input(), now=datetime.now(UTC))
    (trade_id,) = insert_trades(
        session,
        portfolio_id=portfolio_id,
        user_id=owner.user_id,
        trades=[checked],
        tz=timezone,
        now=created_at or datetime.now(UTC),
    )
    return trade_id


def closed_trade_specs(n: int, *, seed: int = 42, start: datetime = T0) -> list[TradeSpec]:
    """``n`` closed trades, one every 3 hours, deterministic for a ``seed``: mixed symbols,
    directions, setups and tags, each risking 10 per unit and ending between -1.5R and +3R."""
    rng = random.Random(seed)
    symbols = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT")
    specs = []
    for i in range(n):
        direction = rng.choice(("long", "short"))
        sign = 1 if direction == "long" else -1
        r_tenths = rng.randint(-15, 30)
        exit_price = D(100) + sign * D(r_tenths)
        specs.append(
            TradeSpec(
                symbol=rng.choice(symbols),
                direction=direction,
                entries=(("100", "1"),),
                exits=((str(exit_price), "1"),),
                stop=str(D(100) - sign * D(10)),
                opened_at=start + timedelta(hours=3 * i),
                step=timedelta(minutes=rng.randint(5, 170)),
                tags=tuple(rng.sample(("breakout", "trend", "range", "news"), rng.randint(0, 2))),
                setup=rng.choice(("fvg", "order block", "")),
            )
        )
    return specs


def bulk_trades(
    session: Session,
    owner: PortfolioOwner,
    portfolio_id: int,
    specs: Sequence[TradeSpec],
    *,
    timezone: str = "UTC",
) -> list[int]:
    """Many trades at once (executemany: 100,000 in tens of seconds); their ids in order.
    Figures are computed as the service computes them."""
    assert owner.user_id is not None
    now = datetime.now(UTC)
    checked = [check_trade(spec.input(), now=now) for spec in specs]
    scratch = Trade()
    rows = []
    for item in checked:
        apply_figures(scratch, item, timezone, now)
        rows.append(
            {c.key: getattr(scratch, c.key) for c in Trade.__table__.columns if c.key != "id"}
            | {"portfolio_id": portfolio_id, "user_id": owner.user_id, "created_at": now}
        )
    first = session.scalar(select(Trade.id).order_by(Trade.id.desc()).limit(1)) or 0
    session.execute(insert(Trade), rows)
    ids = list(
        session.scalars(
            select(Trade.id)
            .where(Trade.portfolio_id == portfolio_id, Trade.id > first)
            .order_by(Trade.id)
        )
    )
    fills = [
        {
            "trade_id": tid,
            "side": f.side.value,
            "at": f.at,
            "price": f.price,
            "quantity": f.quantity,
            "fee": f.fee,
        }
        for tid, item in zip(ids, checked, strict=True)
        for f in item.fills
    ]
    session.execute(insert(TradeFill), fills)
    tags = [
        {"trade_id": tid, "tag": tag}
        for tid, item in zip(ids, checked, strict=True)
        for tag in item.tags
    ]
    if tags:
        session.execute(insert(TradeTag), tags)
    session.flush()
    return ids
