"""Trades and signals: "take this trade" pre-fills a trade from a signal's levels, and a trade
may link only a signal its owner's plan lets them open."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.db.models import Signal, Symbol
from cryptolens.db.portfolio import Portfolio
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.plans import Capability
from cryptolens.domain.trades import Direction, quantize
from cryptolens.services.accounts import policy
from cryptolens.services.portfolio.access import Owner, owner_id
from cryptolens.services.views.signal_list import count_newer_signals


@dataclass(frozen=True, slots=True)
class TradeDraft:
    """A trade form filled from a signal: its symbol, direction, levels and id."""

    signal_id: int
    symbol: str
    direction: Direction
    entry: Decimal
    planned_stop: Decimal
    targets: tuple[Decimal, Decimal, Decimal]
    #: The owner's portfolios (id, name) to choose from, by name.
    portfolios: tuple[tuple[int, str], ...]


def price(value: float) -> Decimal:
    """A signal's float level as the decimal it prints as, to the 10 places trades keep."""
    return quantize(Decimal(repr(value)))


def check_signal_link(session: Session, *, owner: Owner, signal_id: int) -> Signal:
    """The signal ``signal_id`` if the owner may open it; NotFoundError if there is none,
    TierRequiredError if the plan does not show it."""
    row = session.get(Signal, signal_id)
    if row is None:
        raise NotFoundError(f"No signal with id {signal_id}.")
    cap = policy.signals_page_limit(owner)
    newer = (
        None
        if cap is None
        else count_newer_signals(session, created_at=row.created_at, signal_id=row.id, cap=cap)
    )
    policy.check_signal_visible(owner, newer=newer)
    return row


def prefill_from_signal(session: Session, *, owner: Owner, signal_id: int) -> TradeDraft:
    """The draft of a trade taking signal ``signal_id``: entry, stop and targets from its
    levels, long for a bullish signal and short for a bearish one."""
    policy.require(owner, Capability.PORTFOLIO)
    row = check_signal_link(session, owner=owner, signal_id=signal_id)
    symbol = session.scalar(select(Symbol.symbol).where(Symbol.id == row.symbol_id))
    portfolios = session.execute(
        select(Portfolio.id, Portfolio.name)
        .where(Portfolio.user_id == owner_id(owner))
        .order_by(Portfolio.name)
    ).all()
    return TradeDraft(
        signal_id=row.id,
        symbol=symbol or "",
        direction=Direction.LONG if row.direction == "bullish" else Direction.SHORT,
        entry=price(row.entry),
        planned_stop=price(row.stop),
        targets=(price(row.target_1), price(row.target_2), price(row.target_3)),
        portfolios=tuple((pid, name) for pid, name in portfolios),
    )
