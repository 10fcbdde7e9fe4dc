"""The SQL behind ``analytics``: each function builds one statement whose cost grows with the
number of trades but whose count does not.

Money columns go through ``as_number`` (on SQLite they are stored as text, which would compare
as text); sums there come back as floats, on PostgreSQL and MariaDB as exact decimals.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.selectable import CompoundSelect

from cryptolens.db.base import as_number
from cryptolens.db.models import Signal
from cryptolens.db.portfolio import Trade, TradeTag

CLOSED = "closed"
#: The equity curve has at most this many points: the start, evenly spaced closed trades,
#: the deepest point of the maximum drawdown and the last closed trade.
MAX_CURVE_POINTS = 500
_SAMPLED = MAX_CURVE_POINTS - 3
#: "You vs the signals" lists this many linked trades, latest first.
LINKED_ROWS = 50

#: Breakdown dimensions, in the order of the ``dimension`` column of ``breakdowns``.
DIMENSIONS = ("tag", "symbol", "direction", "setup", "weekday", "hour")

Query: TypeAlias = Select[*tuple[Any, ...]]
_Key: TypeAlias = ColumnElement[Any] | InstrumentedAttribute[Any]


def _pnl() -> ColumnElement[Any]:
    return as_number(Trade.realized_pnl)


def _r() -> ColumnElement[Any]:
    return as_number(Trade.r_multiple)


def _closed_in(portfolio_id: int) -> tuple[ColumnElement[bool], ...]:
    return (Trade.portfolio_id == portfolio_id, Trade.status == CLOSED)


def _counted(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def summary(portfolio_id: int) -> Query:
    """One row over every trade of the portfolio: counts, sums and extremes of the closed
    ones, and how many are still open."""
    closed = Trade.status == CLOSED
    pnl, r = _pnl(), _r()
    has_r = Trade.r_multiple.is_not(None)
    return select(
        _counted(closed).label("closed"),
        _counted(Trade.status != CLOSED).label("open"),
        _counted(closed & (pnl > 0)).label("wins"),
        _counted(closed & (pnl < 0)).label("losses"),
        func.sum(case((closed, pnl), else_=None)).label("net"),
        func.sum(case((closed & (pnl > 0), pnl), else_=None)).label("gross_profit"),
        func.sum(case((closed & (pnl < 0), pnl), else_=None)).label("gross_loss"),
        func.max(case((closed, pnl), else_=None)).label("largest"),
        func.min(case((closed, pnl), else_=None)).label("smallest"),
        _counted(closed & has_r).label("r_trades"),
        func.sum(case((closed, r), else_=None)).label("sum_r"),
        _counted(closed & (pnl > 0) & has_r).label("win_r_trades"),
        func.sum(case((closed & (pnl > 0), r), else_=None)).label("sum_win_r"),
        _counted(closed & (pnl < 0) & has_r).label("loss_r_trades"),
        func.sum(case((closed & (pnl < 0), r), else_=None)).label("sum_loss_r"),
        func.sum(case((closed, Trade.holding_seconds), else_=None)).label("holding"),
        func.min(case((closed, Trade.opened_at), else_=None)).label("first_opened_at"),
        func.max(case((closed, Trade.closed_at), else_=None)).label("last_closed_at"),
    ).where(Trade.portfolio_id == portfolio_id)


def equity(portfolio_id: int) -> Query:
    """The closed trades in closing order with the running P&L (``run``, equity minus the
    initial balance), its peak so far (at least 0: the initial balance is the first peak),
    the drawdown below that peak, when the peak was reached (``peak_at``; NULL while it is
    the initial balance) and when equity first got back to it (``recovered_at``; NULL if it
    has not) — sampled to at most ``MAX_CURVE_POINTS - 1`` rows, always including the last
    trade and the first trade of maximum drawdown (``is_max`` = 1)."""
    trades = (
        select(
            Trade.id.label("id"),
            Trade.closed_at.label("closed_at"),
            func.sum(_pnl())
            .over(order_by=(Trade.closed_at, Trade.id), rows=(None, 0))
            .label("run"),
        )
        .where(*_closed_in(portfolio_id))
        .subquery("trades_run")
    )
    order = (trades.c.closed_at, trades.c.id)
    peaks = select(
        trades,
        func.max(trades.c.run).over(order_by=order, rows=(None, 0)).label("run_max"),
    ).subquery("peaks")
    order = (peaks.c.closed_at, peaks.c.id)
    at_high = case(
        ((peaks.c.run >= peaks.c.run_max) & (peaks.c.run >= 0), peaks.c.closed_at), else_=None
    )
    peak = case((peaks.c.run_max > 0, peaks.c.run_max), else_=0)
    marked = select(
        peaks.c.closed_at,
        peaks.c.run,
        peak.label("peak"),
        (peak - peaks.c.run).label("drawdown"),
        func.max(at_high).over(order_by=order, rows=(None, 0)).label("peak_at"),
        func.min(at_high).over(order_by=order, rows=(1, None)).label("recovered_at"),
        func.row_number().over(order_by=order).label("rn"),
        func.count().over().label("n"),
    ).subquery("marked")
    deepest = select(marked, func.max(marked.c.drawdown).over().label("max_drawdown")).subquery(
        "deepest"
    )
    is_max = and_(deepest.c.max_drawdown > 0, deepest.c.drawdown == deepest.c.max_drawdown)
    step = (deepest.c.n + (_SAMPLED - 1)) // _SAMPLED
    return (
        select(
            deepest.c.closed_at,
            deepest.c.run,
            deepest.c.peak,
            deepest.c.drawdown,
            deepest.c.peak_at,
            deepest.c.recovered_at,
            case((is_max, 1), else_=0).label("is_max"),
        )
        .where(or_((deepest.c.rn - 1) % step == 0, deepest.c.rn == deepest.c.n, is_max))
        .order_by(deepest.c.rn)
    )


def _grouped(index: int, key: _Key, portfolio_id: int) -> Query:
    pnl, r = _pnl(), _r()
    return (
        select(
            literal_column(str(index), Integer).label("dimension"),
            cast(key, String(60)).label("key"),
            func.count().label("trades"),
            _counted(pnl > 0).label("wins"),
            _counted(pnl < 0).label("losses"),
            func.sum(pnl).label("net"),
            func.sum(case((pnl > 0, pnl), else_=None)).label("gross_profit"),
            func.sum(case((pnl < 0, pnl), else_=None)).label("gross_loss"),
            func.count(Trade.r_multiple).label("r_trades"),
            func.sum(r).label("sum_r"),
        )
        .where(*_closed_in(portfolio_id))
        .group_by(key)
    )


def breakdowns(portfolio_id: int) -> CompoundSelect[*tuple[Any, ...]]:
    """Per tag, symbol, direction, setup, local weekday and local hour of closing, the
    closed trades' counts and sums, in one statement (a trade counts under each of its tags;
    trades without a tag are not in the tag breakdown)."""
    keys: dict[str, _Key] = {
        "symbol": Trade.symbol,
        "direction": Trade.direction,
        "setup": Trade.setup,
        "weekday": Trade.local_weekday,
        "hour": Trade.local_hour,
    }
    by_tag = _grouped(0, TradeTag.tag, portfolio_id).join(TradeTag, TradeTag.trade_id == Trade.id)
    others = [_grouped(DIMENSIONS.index(name), key, portfolio_id) for name, key in keys.items()]
    return union_all(by_tag, *others)


def _linked(portfolio_id: int) -> tuple[ColumnElement[bool], ...]:
    return (*_closed_in(portfolio_id), Trade.signal_id.is_not(None))


def versus_signals(portfolio_id: int) -> Query:
    """Closed trades linked to a signal: how many, and over those where both the trader's
    R and the signal's tracked R are known, both averages and both win counts."""
    r = _r()
    both = Trade.r_multiple.is_not(None) & Signal.r_multiple.is_not(None)
    return (
        select(
            func.count().label("linked"),
            _counted(both).label("compared"),
            func.sum(case((both, r), else_=None)).label("sum_r"),
            func.sum(case((both, Signal.r_multiple), else_=None)).label("sum_signal_r"),
            _counted(both & (r > 0)).label("wins"),
            _counted(both & (Signal.r_multiple > 0)).label("signal_wins"),
        )
        .select_from(Trade)
        .join(Signal, Signal.id == Trade.signal_id)
        .where(*_linked(portfolio_id))
    )


def latest_linked(portfolio_id: int) -> Query:
    """The latest ``LINKED_ROWS`` closed trades linked to a signal, beside the signal's
    tracked outcome."""
    return (
        select(
            Trade.id,
            Trade.signal_id,
            Trade.symbol,
            Trade.direction,
            Trade.closed_at,
            Trade.r_multiple,
            Signal.r_multiple.label("signal_r"),
            Signal.outcome,
            Signal.status,
        )
        .join(Signal, Signal.id == Trade.signal_id)
        .where(*_linked(portfolio_id))
        .order_by(Trade.closed_at.desc(), Trade.id.desc())
        .limit(LINKED_ROWS)
    )
