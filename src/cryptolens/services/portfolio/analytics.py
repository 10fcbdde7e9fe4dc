"""A portfolio's analytics in five SQL statements, whatever its number of trades: the
portfolio (owner check, open trades), the closed trades grouped (one UNION ALL of three
grouped scans, rolled up into the summary and the breakdowns), the equity curve with its
maximum drawdown (the closed trades' P&L in closing order, one linear pass in
``analytics_equity``), and "you vs the signals" (an aggregate and the latest
linked trades).

Only closed trades count. A *win* has a realised P&L above 0, a *loss* below 0 (a trade at
exactly 0 is neither, but counts in the win rate's denominator). Expectancy in R is the mean
R of the closed trades that have one; ``expectancy`` in the quote currency is the mean P&L.

Types: money (P&L, equity, drawdown) is ``Decimal``; ratios, R multiples and percentages are
``float``. PostgreSQL and MariaDB sum exactly; SQLite sums the stored decimal text as floats,
so its money figures carry float rounding (about 15 significant digits) — fine for analytics,
never used to store anything.

Maximum drawdown: the largest fall of equity (initial balance + cumulative realised P&L, in
closing order) below its running peak, which starts at the initial balance; as a percentage of
that peak. Its duration runs from the moment the peak was reached (the first trade's opening
when the peak is the initial balance) to the first closing that brings equity back to the peak,
or to the last closed trade while it has not recovered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from cryptolens.db.portfolio import Portfolio
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.quiet_hours import zone
from cryptolens.services.portfolio import analytics_queries as queries
from cryptolens.services.portfolio.analytics_equity import EquityRows, equity_rows
from cryptolens.services.portfolio.analytics_rollup import Figures, Tally, roll_up

__all__ = ["Analytics", "Figures", "portfolio_analytics"]


class Owner(Protocol):
    @property
    def id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Summary:
    figures: Figures
    open_trades: int
    average_win: Decimal | None
    average_loss: Decimal | None
    largest_win: Decimal | None
    largest_loss: Decimal | None
    average_win_r: float | None
    average_loss_r: float | None
    average_holding_seconds: float | None


@dataclass(frozen=True, slots=True)
class Drawdown:
    amount: Decimal
    #: Of the peak equity it fell from.
    percent: float
    peak_equity: Decimal
    started_at: datetime | None
    trough_at: datetime | None
    #: None while equity is still below that peak.
    recovered_at: datetime | None
    duration_seconds: int


@dataclass(frozen=True, slots=True)
class EquityPoint:
    at: datetime
    equity: Decimal


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    #: A tag, symbol, direction or setup (None: trades without one), or a weekday (0 =
    #: Monday) or hour as an int.
    key: str | int | None
    figures: Figures


@dataclass(frozen=True, slots=True)
class LinkedTrade:
    trade_id: int
    signal_id: int
    symbol: str
    direction: str
    closed_at: datetime
    r_multiple: float | None
    signal_r: float | None
    signal_outcome: str | None
    signal_status: str


@dataclass(frozen=True, slots=True)
class VersusSignals:
    """Closed trades linked to a signal; the averages are over those where both Rs are
    known (``compared``), so they compare the same trades."""

    linked: int
    compared: int
    average_r: float | None
    signal_average_r: float | None
    wins: int
    signal_wins: int
    latest: tuple[LinkedTrade, ...]


@dataclass(frozen=True, slots=True)
class Analytics:
    portfolio_id: int
    quote_currency: str
    initial_balance: Decimal
    summary: Summary
    drawdown: Drawdown
    #: At most ``MAX_CURVE_POINTS``, times in the requested zone; empty without closed trades.
    equity_curve: tuple[EquityPoint, ...]
    #: Breakdown name (``analytics_rollup.DIMENSIONS``) -> rows, most trades first (weekday
    #: and hour in order).
    breakdowns: dict[str, tuple[BreakdownRow, ...]]
    versus_signals: VersusSignals


def _ratio(total: Any, count: int) -> float | None:
    return float(total) / count if count and total is not None else None


def _summary(total: Tally, open_trades: int) -> Summary:
    figures = total.figures()
    wins, losses = total.sides[1], total.sides[-1]
    largest, smallest = total.largest, total.smallest
    return Summary(
        figures=figures,
        open_trades=open_trades,
        average_win=wins.pnl / wins.trades if wins.trades else None,
        average_loss=losses.pnl / losses.trades if losses.trades else None,
        largest_win=largest if largest is not None and largest > 0 else None,
        largest_loss=smallest if smallest is not None and smallest < 0 else None,
        average_win_r=_ratio(wins.sum_r, wins.r_trades),
        average_loss_r=_ratio(losses.sum_r, losses.r_trades),
        average_holding_seconds=_ratio(total.holding, figures.trades),
    )


def _drawdown(
    rows: EquityRows, initial: Decimal, start: datetime | None, end: datetime | None
) -> Drawdown:
    trough = rows.trough
    amount = Decimal(0) if trough is None else trough.peak - trough.run
    if trough is None or amount <= 0 or start is None or end is None:
        return Drawdown(Decimal(0), 0.0, initial, None, None, None, 0)
    peak = initial + trough.peak
    began = rows.peak_at or start
    return Drawdown(
        amount=amount,
        percent=float(amount / peak * 100) if peak > 0 else 0.0,
        peak_equity=peak,
        started_at=began,
        trough_at=trough.closed_at,
        recovered_at=rows.recovered_at,
        duration_seconds=int(((rows.recovered_at or end) - began).total_seconds()),
    )


def _curve(
    rows: EquityRows, initial: Decimal, start: datetime | None, tz: str
) -> tuple[EquityPoint, ...]:
    if start is None or not rows.samples:
        return ()
    points = rows.samples
    if rows.trough is not None and all(row.rn != rows.trough.rn for row in points):
        points = sorted([*points, rows.trough], key=lambda row: row.rn)
    where = zone(tz)
    first = EquityPoint(start.astimezone(where), initial)
    return first, *(
        EquityPoint(row.closed_at.astimezone(where), initial + row.run) for row in points
    )


def _breakdowns(
    tallies: dict[str, list[tuple[Any, Tally]]],
) -> dict[str, tuple[BreakdownRow, ...]]:
    return {
        name: tuple(BreakdownRow(key, tally.figures()) for key, tally in rows)
        for name, rows in tallies.items()
    }


def _versus(total: Row[Any], latest: list[Row[Any]]) -> VersusSignals:
    compared = int(total.compared or 0)
    return VersusSignals(
        linked=int(total.linked or 0),
        compared=compared,
        average_r=_ratio(total.sum_r, compared),
        signal_average_r=_ratio(total.sum_signal_r, compared),
        wins=int(total.wins or 0),
        signal_wins=int(total.signal_wins or 0),
        latest=tuple(
            LinkedTrade(
                trade_id=row.id,
                signal_id=row.signal_id,
                symbol=row.symbol,
                direction=row.direction,
                closed_at=row.closed_at,
                r_multiple=None if row.r_multiple is None else float(row.r_multiple),
                signal_r=row.signal_r,
                signal_outcome=row.outcome,
                signal_status=row.status,
            )
            for row in latest
        ),
    )


def portfolio_analytics(
    session: Session, *, owner: Owner, portfolio_id: int, tz: str = "UTC"
) -> Analytics:
    """Every figure of the analytics page in five statements; ``tz`` (an IANA zone, UTC if
    unknown) is the zone of the equity curve's times. NotFoundError for a portfolio that does
    not exist or is not ``owner``'s."""
    portfolio = session.execute(
        select(
            Portfolio.quote_currency,
            Portfolio.initial_balance,
            queries.open_trades(portfolio_id).label("open_trades"),
        ).where(Portfolio.id == portfolio_id, Portfolio.user_id == owner.id)
    ).one_or_none()
    if portfolio is None:
        raise NotFoundError("No such portfolio.")
    initial = portfolio.initial_balance
    total, tallies = roll_up(list(session.execute(queries.grouped(portfolio_id)).all()))
    curve = equity_rows(session.execute(queries.equity(portfolio_id)).all())
    start, end = total.first_opened_at, total.last_closed_at
    return Analytics(
        portfolio_id=portfolio_id,
        quote_currency=portfolio.quote_currency,
        initial_balance=initial,
        summary=_summary(total, int(portfolio.open_trades)),
        drawdown=_drawdown(curve, initial, start, end),
        equity_curve=_curve(curve, initial, start, tz),
        breakdowns=_breakdowns(tallies),
        versus_signals=_versus(
            session.execute(queries.versus_signals(portfolio_id)).one(),
            list(session.execute(queries.latest_linked(portfolio_id)).all()),
        ),
    )
