"""Trades in a portfolio: create (within the plan's daily allowance), edit, add or remove
fills, close, delete, read and list. The figures (P&L, R, holding time…) are recomputed from
the fills by ``domain.trades.figures`` on every change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.orm import Session

from cryptolens.db.portfolio import Trade, TradeFill, TradeTag
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.plans import Capability
from cryptolens.domain.portfolio_rules import (
    SETUP_LENGTH,
    check_direction,
    check_stop,
    check_symbol,
    check_targets,
    check_text,
    clean_tags,
)
from cryptolens.domain.quiet_hours import zone
from cryptolens.domain.trades import (
    Direction,
    Fill,
    Side,
    TradeFigures,
    TradeStatus,
    check_amount,
    check_fills,
    check_storable,
    figures,
)
from cryptolens.services.accounts import policy
from cryptolens.services.portfolio import revision
from cryptolens.services.portfolio.access import (
    Owner,
    check_new_trades,
    owned_portfolio,
    owned_trade,
    owner_timezone,
)
from cryptolens.services.portfolio.signal_link import check_signal_link


@dataclass(frozen=True, slots=True)
class TradeInput:
    """A trade as a form or the API gives it (decimals parsed, texts raw)."""

    symbol: str
    direction: str
    planned_stop: Decimal
    fills: tuple[Fill, ...]
    targets: tuple[Decimal | None, ...] = ()
    setup: str = ""
    notes: str = ""
    mistakes: str = ""
    emotions: str = ""
    tags: tuple[str, ...] = ()
    signal_id: int | None = None


@dataclass(frozen=True, slots=True)
class CheckedTrade:
    """A trade that passed every rule, with its fills in time order and its figures."""

    symbol: str
    direction: Direction
    planned_stop: Decimal
    targets: tuple[Decimal | None, ...]
    setup: str | None
    notes: str
    mistakes: str
    emotions: str
    tags: tuple[str, ...]
    signal_id: int | None
    fills: tuple[Fill, ...]
    figures: TradeFigures


@dataclass(frozen=True, slots=True)
class FillView:
    id: int
    side: Side
    at: datetime
    price: Decimal
    quantity: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class TradeView:
    """A stored trade with its stored figures (no lots); ``fills`` is empty in lists that
    do not ask for them."""

    id: int
    portfolio_id: int
    symbol: str
    direction: Direction
    planned_stop: Decimal
    targets: tuple[Decimal | None, Decimal | None, Decimal | None]
    setup: str | None
    notes: str
    mistakes: str
    emotions: str
    signal_id: int | None
    figures: TradeFigures
    tags: tuple[str, ...]
    fills: tuple[FillView, ...]


def check_trade(data: TradeInput, *, now: datetime) -> CheckedTrade:
    """``data`` validated (FieldError naming the field and rule) with its figures."""
    symbol = check_symbol(data.symbol)
    direction = check_direction(data.direction)
    fills = check_fills(data.fills, now=now)
    check_amount("planned_stop", data.planned_stop, "Planned stop", positive=True)
    result = check_storable(figures(direction, fills, data.planned_stop))
    setup = check_text("setup", data.setup, "Setup", length=SETUP_LENGTH)
    return CheckedTrade(
        symbol=symbol,
        direction=direction,
        planned_stop=check_stop(direction, data.planned_stop, result.avg_entry),
        targets=check_targets(data.targets),
        setup=setup or None,
        notes=check_text("notes", data.notes, "Notes"),
        mistakes=check_text("mistakes", data.mistakes, "Mistakes"),
        emotions=check_text("emotions", data.emotions, "Emotions"),
        tags=clean_tags(data.tags),
        signal_id=data.signal_id,
        fills=tuple(fills),
        figures=result,
    )


def apply_figures(row: Trade, checked: CheckedTrade, tz: str, now: datetime) -> None:
    """Copy a checked trade and its figures onto ``row`` (weekday and hour of the close in
    the owner's time zone ``tz``)."""
    result = checked.figures
    row.symbol = checked.symbol
    row.direction = checked.direction.value
    row.status = result.status.value
    row.planned_stop = checked.planned_stop
    row.target_1, row.target_2, row.target_3 = checked.targets[:3]
    row.setup = checked.setup
    row.notes, row.mistakes, row.emotions = checked.notes, checked.mistakes, checked.emotions
    row.signal_id = checked.signal_id
    row.opened_at, row.closed_at = result.opened_at, result.closed_at
    row.quantity, row.open_quantity = result.quantity, result.open_quantity
    row.avg_entry, row.avg_exit = result.avg_entry, result.avg_exit
    row.fees, row.realized_pnl = result.fees, result.realized_pnl
    row.risk_amount, row.r_multiple = result.risk_amount, result.r_multiple
    row.holding_seconds = result.holding_seconds
    local = None if result.closed_at is None else result.closed_at.astimezone(zone(tz))
    row.local_weekday = None if local is None else local.weekday()
    row.local_hour = None if local is None else local.hour
    row.updated_at = now


def _store_children(session: Session, trade_id: int, checked: CheckedTrade) -> None:
    session.execute(delete(TradeFill).where(TradeFill.trade_id == trade_id))
    session.execute(delete(TradeTag).where(TradeTag.trade_id == trade_id))
    session.execute(
        insert(TradeFill),
        [
            {
                "trade_id": trade_id,
                "side": f.side.value,
                "at": f.at,
                "price": f.price,
                "quantity": f.quantity,
                "fee": f.fee,
            }
            for f in checked.fills
        ],
    )
    if checked.tags:
        session.execute(insert(TradeTag), [{"trade_id": trade_id, "tag": t} for t in checked.tags])


def insert_trades(
    session: Session,
    *,
    portfolio_id: int,
    user_id: int,
    trades: Sequence[CheckedTrade],
    tz: str,
    now: datetime,
) -> list[int]:
    """Store checked trades (owner and plan already checked), moving the portfolio's
    analytics revision once; their ids in order."""
    revision.touch(session, portfolio_id)
    ids: list[int] = []
    for checked in trades:
        row = Trade(portfolio_id=portfolio_id, user_id=user_id, created_at=now)
        apply_figures(row, checked, tz, now)
        session.add(row)
        session.flush()
        _store_children(session, row.id, checked)
        ids.append(row.id)
    return ids


def create_trade(
    session: Session, *, owner: Owner, portfolio_id: int, data: TradeInput, now: datetime
) -> TradeView:
    """A new trade; FieldError for bad input, TierRequiredError beyond the plan, NotFoundError
    for a portfolio (or signal) that is not the owner's to use."""
    portfolio = owned_portfolio(session, owner=owner, portfolio_id=portfolio_id)
    checked = check_trade(data, now=now)
    if checked.signal_id is not None:
        check_signal_link(session, owner=owner, signal_id=checked.signal_id)
    tz = check_new_trades(session, owner=owner, count=1, now=now)
    (trade_id,) = insert_trades(
        session,
        portfolio_id=portfolio.id,
        user_id=portfolio.user_id,
        trades=[checked],
        tz=tz,
        now=now,
    )
    return get_trade(session, owner=owner, trade_id=trade_id)


def update_trade(
    session: Session, *, owner: Owner, trade_id: int, data: TradeInput, now: datetime
) -> TradeView:
    """Replace a trade's fields, fills and tags."""
    row = owned_trade(session, owner=owner, trade_id=trade_id)
    policy.require(owner, Capability.PORTFOLIO)
    checked = check_trade(data, now=now)
    if checked.signal_id is not None and checked.signal_id != row.signal_id:
        check_signal_link(session, owner=owner, signal_id=checked.signal_id)
    revision.touch(session, row.portfolio_id)
    apply_figures(row, checked, owner_timezone(session, owner=owner), now)
    session.flush()
    _store_children(session, row.id, checked)
    return get_trade(session, owner=owner, trade_id=row.id)


def _input_of(view: TradeView) -> TradeInput:
    return TradeInput(
        symbol=view.symbol,
        direction=view.direction.value,
        planned_stop=view.planned_stop,
        fills=tuple(Fill(f.side, f.at, f.price, f.quantity, f.fee) for f in view.fills),
        targets=view.targets,
        setup=view.setup or "",
        notes=view.notes,
        mistakes=view.mistakes,
        emotions=view.emotions,
        tags=view.tags,
        signal_id=view.signal_id,
    )


def add_fill(
    session: Session, *, owner: Owner, trade_id: int, fill: Fill, now: datetime
) -> TradeView:
    """Add an entry (scale-in) or exit (partial or whole) to a trade."""
    current = _input_of(get_trade(session, owner=owner, trade_id=trade_id))
    changed = replace(current, fills=(*current.fills, fill))
    return update_trade(session, owner=owner, trade_id=trade_id, data=changed, now=now)


def remove_fill(
    session: Session, *, owner: Owner, trade_id: int, fill_id: int, now: datetime
) -> TradeView:
    """Remove one fill; the rest must still make a trade (FieldError otherwise)."""
    view = get_trade(session, owner=owner, trade_id=trade_id)
    if all(f.id != fill_id for f in view.fills):
        raise NotFoundError(f"Trade {trade_id} has no fill with id {fill_id}.")
    kept = tuple(
        Fill(f.side, f.at, f.price, f.quantity, f.fee) for f in view.fills if f.id != fill_id
    )
    changed = replace(_input_of(view), fills=kept)
    return update_trade(session, owner=owner, trade_id=trade_id, data=changed, now=now)


def close_trade(
    session: Session,
    *,
    owner: Owner,
    trade_id: int,
    price: Decimal,
    at: datetime,
    now: datetime,
    fee: Decimal = Decimal(0),
) -> TradeView:
    """Exit the whole open position at ``price``."""
    view = get_trade(session, owner=owner, trade_id=trade_id)
    closing = Fill(Side.EXIT, at, price, view.figures.open_quantity, fee)
    return add_fill(session, owner=owner, trade_id=trade_id, fill=closing, now=now)


def delete_trade(session: Session, *, owner: Owner, trade_id: int) -> None:
    """Delete a trade with its fills, tags and journal entries (on any plan)."""
    row = owned_trade(session, owner=owner, trade_id=trade_id)
    revision.touch(session, row.portfolio_id)
    session.execute(delete(Trade).where(Trade.id == row.id))
    session.expunge(row)


def _views(session: Session, rows: Sequence[Trade], *, with_fills: bool) -> list[TradeView]:
    ids = [r.id for r in rows]
    tags: dict[int, list[str]] = {i: [] for i in ids}
    fills: dict[int, list[FillView]] = {i: [] for i in ids}
    if ids:
        for trade_id, tag in session.execute(
            select(TradeTag.trade_id, TradeTag.tag)
            .where(TradeTag.trade_id.in_(ids))
            .order_by(TradeTag.trade_id, TradeTag.tag)
        ):
            tags[trade_id].append(tag)
    if ids and with_fills:
        for f in session.scalars(
            select(TradeFill)
            .where(TradeFill.trade_id.in_(ids))
            .order_by(TradeFill.trade_id, TradeFill.at, TradeFill.side, TradeFill.id)
        ):
            fills[f.trade_id].append(FillView(f.id, Side(f.side), f.at, f.price, f.quantity, f.fee))
    return [_view(r, tuple(tags[r.id]), tuple(fills[r.id])) for r in rows]


def _stored_figures(row: Trade) -> TradeFigures:
    """The figures ``apply_figures`` stored on ``row`` (the totals; no lots)."""
    return TradeFigures(
        status=TradeStatus(row.status),
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        quantity=row.quantity,
        open_quantity=row.open_quantity,
        avg_entry=row.avg_entry,
        avg_exit=row.avg_exit,
        fees=row.fees,
        realized_pnl=row.realized_pnl,
        risk_amount=row.risk_amount,
        r_multiple=row.r_multiple,
        holding_seconds=row.holding_seconds,
    )


def _view(row: Trade, tags: tuple[str, ...], fills: tuple[FillView, ...]) -> TradeView:
    return TradeView(
        id=row.id,
        portfolio_id=row.portfolio_id,
        symbol=row.symbol,
        direction=Direction(row.direction),
        planned_stop=row.planned_stop,
        targets=(row.target_1, row.target_2, row.target_3),
        setup=row.setup,
        notes=row.notes,
        mistakes=row.mistakes,
        emotions=row.emotions,
        signal_id=row.signal_id,
        figures=_stored_figures(row),
        tags=tags,
        fills=fills,
    )


def get_trade(session: Session, *, owner: Owner, trade_id: int) -> TradeView:
    """One of the owner's trades with its fills and tags (three queries)."""
    row = owned_trade(session, owner=owner, trade_id=trade_id)
    return _views(session, [row], with_fills=True)[0]


def list_trades(
    session: Session,
    *,
    owner: Owner,
    portfolio_id: int,
    status: str | None = None,
    limit: int | None = None,
    with_fills: bool = False,
) -> list[TradeView]:
    """A portfolio's trades, newest first (opened), with tags (and fills if asked): two or
    three queries whatever the count."""
    owned_portfolio(session, owner=owner, portfolio_id=portfolio_id)
    conditions: list[ColumnElement[bool]] = [Trade.portfolio_id == portfolio_id]
    if status is not None:
        conditions.append(Trade.status == status)
    query = select(Trade).where(*conditions).order_by(Trade.opened_at.desc(), Trade.id.desc())
    rows = list(session.scalars(query if limit is None else query.limit(limit)))
    return _views(session, rows, with_fills=with_fills)
