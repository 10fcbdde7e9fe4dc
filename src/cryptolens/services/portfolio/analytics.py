"""A portfolio's analytics page in a fixed number of statements, whatever its number of
trades.

The figures its own trades decide (summary, drawdown, equity curve, breakdowns) come from a
snapshot (``analytics_snapshot``) kept exact by the portfolio's analytics revision: one
statement reads the portfolio with its snapshot when that is of the current revision (a
*hit*). Otherwise (a *miss*) they are computed — the open trades counted, the closed trades
grouped (one UNION ALL of three grouped scans, rolled up into the summary and the
breakdowns), the equity curve with its maximum drawdown (the closed trades' P&L in closing
order, one linear pass in ``analytics_equity``) — and stored for the revision read first.
"You vs the signals" (an aggregate and the latest linked trades) is always read live: signal
outcomes change without any write to the portfolio. Hit: 3 statements; miss: 9 (3 of them
store the snapshot in a savepoint).

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

import time
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.portfolio import Portfolio
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.quiet_hours import zone
from cryptolens.services.portfolio import analytics_queries as queries
from cryptolens.services.portfolio import analytics_snapshot as snapshot
from cryptolens.services.portfolio.analytics_equity import EquityRows, equity_rows
from cryptolens.services.portfolio.analytics_model import (
    Analytics,
    BreakdownRow,
    Drawdown,
    EquityPoint,
    LinkedTrade,
    Summary,
    TradeAnalytics,
    VersusSignals,
)
from cryptolens.services.portfolio.analytics_rollup import Figures, Tally, roll_up

__all__ = ["Analytics", "Figures", "TradeAnalytics", "portfolio_analytics", "refresh_analytics"]


class Owner(Protocol):
    @property
    def id(self) -> int: ...


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


def _curve(rows: EquityRows, initial: Decimal, start: datetime | None) -> tuple[EquityPoint, ...]:
    if start is None or not rows.samples:
        return ()
    points = rows.samples
    if rows.trough is not None and all(row.rn != rows.trough.rn for row in points):
        points = sorted([*points, rows.trough], key=lambda row: row.rn)
    return EquityPoint(start, initial), *(
        EquityPoint(row.closed_at, initial + row.run) for row in points
    )


def _in_zone(curve: tuple[EquityPoint, ...], tz: str) -> tuple[EquityPoint, ...]:
    where = zone(tz)
    return tuple(EquityPoint(point.at.astimezone(where), point.equity) for point in curve)


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


def compute_trade_analytics(
    session: Session, *, portfolio_id: int, initial: Decimal
) -> TradeAnalytics:
    """The figures of the portfolio's own trades, from scratch (three statements); the
    equity curve's times in UTC."""
    open_trades = session.execute(queries.open_trades(portfolio_id)).scalar_one()
    total, tallies = roll_up(list(session.execute(queries.grouped(portfolio_id)).all()))
    curve = equity_rows(session.execute(queries.equity(portfolio_id)).all())
    start, end = total.first_opened_at, total.last_closed_at
    return TradeAnalytics(
        summary=_summary(total, int(open_trades)),
        drawdown=_drawdown(curve, initial, start, end),
        equity_curve=_curve(curve, initial, start),
        breakdowns=_breakdowns(tallies),
    )


def _recompute(session: Session, portfolio_id: int, found: snapshot.Current) -> TradeAnalytics:
    """Compute, and store as the snapshot of the revision ``found`` (``snapshot.current``)
    read before."""
    began = time.perf_counter()
    figures = compute_trade_analytics(
        session, portfolio_id=portfolio_id, initial=found.initial_balance
    )
    snapshot.store(
        session,
        portfolio_id=portfolio_id,
        revision=found.analytics_revision,
        found=figures,
        compute_ms=(time.perf_counter() - began) * 1000,
        now=utcnow(),
    )
    return figures


def portfolio_analytics(
    session: Session, *, owner: Owner, portfolio_id: int, tz: str = "UTC"
) -> Analytics:
    """Every figure of the analytics page (3 statements with a current snapshot, 9 without,
    which stores one in the caller's transaction: commit to keep it). ``tz`` (an IANA zone,
    UTC if unknown) is the zone of the equity curve's times. NotFoundError for a portfolio
    that does not exist or is not ``owner``'s."""
    found = session.execute(
        snapshot.current(portfolio_id).where(Portfolio.user_id == owner.id)
    ).one_or_none()
    if found is None:
        raise NotFoundError("No such portfolio.")
    figures = snapshot.stored(found) or _recompute(session, portfolio_id, found)
    return Analytics(
        portfolio_id=portfolio_id,
        quote_currency=found.quote_currency,
        initial_balance=found.initial_balance,
        summary=figures.summary,
        drawdown=figures.drawdown,
        equity_curve=_in_zone(figures.equity_curve, tz),
        breakdowns=figures.breakdowns,
        versus_signals=_versus(
            session.execute(queries.versus_signals(portfolio_id)).one(),
            list(session.execute(queries.latest_linked(portfolio_id)).all()),
        ),
    )


def refresh_analytics(session: Session, *, portfolio_id: int) -> bool:
    """Compute and store the snapshot of ``portfolio_id`` unless a current one exists (or the
    portfolio is gone); True when it computed. The caller commits."""
    found = session.execute(snapshot.current(portfolio_id)).one_or_none()
    if found is None or snapshot.stored(found) is not None:
        return False
    _recompute(session, portfolio_id, found)
    return True
