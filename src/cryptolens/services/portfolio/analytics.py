"""A portfolio's analytics in six SQL statements, whatever its number of trades: the
portfolio (owner check), a summary, the equity curve with its maximum drawdown (window
functions), the breakdowns (one UNION ALL), and "you vs the signals" (an aggregate and the
latest linked trades).

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
from cryptolens.services.portfolio.analytics_queries import DIMENSIONS


class Owner(Protocol):
    @property
    def id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts and sums of a set of closed trades, and what follows from them."""

    trades: int
    wins: int
    losses: int
    net_pnl: Decimal
    gross_profit: Decimal
    #: Zero or negative.
    gross_loss: Decimal
    #: Closed trades with an R multiple (a planned risk).
    r_trades: int
    sum_r: float

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.trades if self.trades else None

    @property
    def profit_factor(self) -> float | None:
        """Gross profit over gross loss; None without losses."""
        return float(self.gross_profit / -self.gross_loss) if self.gross_loss else None

    @property
    def expectancy(self) -> Decimal | None:
        """Mean P&L per trade, in the quote currency."""
        return self.net_pnl / self.trades if self.trades else None

    @property
    def expectancy_r(self) -> float | None:
        """Mean R per trade with an R."""
        return self.sum_r / self.r_trades if self.r_trades else None


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
    #: dimension name (``DIMENSIONS``) -> rows, most trades first (weekday and hour in order).
    breakdowns: dict[str, tuple[BreakdownRow, ...]]
    versus_signals: VersusSignals


def _money(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _maybe_money(value: Any) -> Decimal | None:
    return None if value is None else _money(value)


def _ratio(total: Any, count: int) -> float | None:
    return float(total) / count if count and total is not None else None


def _figures(row: Row[Any], trades: int) -> Figures:
    return Figures(
        trades=trades,
        wins=int(row.wins or 0),
        losses=int(row.losses or 0),
        net_pnl=_money(row.net),
        gross_profit=_money(row.gross_profit),
        gross_loss=_money(row.gross_loss),
        r_trades=int(row.r_trades or 0),
        sum_r=float(row.sum_r or 0),
    )


def _summary(row: Row[Any]) -> Summary:
    figures = _figures(row, int(row.closed or 0))
    largest, smallest = _maybe_money(row.largest), _maybe_money(row.smallest)
    return Summary(
        figures=figures,
        open_trades=int(row.open or 0),
        average_win=figures.gross_profit / figures.wins if figures.wins else None,
        average_loss=figures.gross_loss / figures.losses if figures.losses else None,
        largest_win=largest if largest is not None and largest > 0 else None,
        largest_loss=smallest if smallest is not None and smallest < 0 else None,
        average_win_r=_ratio(row.sum_win_r, int(row.win_r_trades or 0)),
        average_loss_r=_ratio(row.sum_loss_r, int(row.loss_r_trades or 0)),
        average_holding_seconds=_ratio(row.holding, figures.trades),
    )


def _drawdown(
    rows: list[Row[Any]], initial: Decimal, start: datetime | None, end: datetime | None
) -> Drawdown:
    deepest = next((row for row in rows if row.is_max), None)
    if deepest is None or start is None or end is None:
        return Drawdown(Decimal(0), 0.0, initial, None, None, None, 0)
    peak = initial + _money(deepest.peak)
    amount = _money(deepest.drawdown)
    began = deepest.peak_at or start
    return Drawdown(
        amount=amount,
        percent=float(amount / peak * 100) if peak > 0 else 0.0,
        peak_equity=peak,
        started_at=began,
        trough_at=deepest.closed_at,
        recovered_at=deepest.recovered_at,
        duration_seconds=int(((deepest.recovered_at or end) - began).total_seconds()),
    )


def _curve(
    rows: list[Row[Any]], initial: Decimal, start: datetime | None, tz: str
) -> tuple[EquityPoint, ...]:
    if start is None or not rows:
        return ()
    where = zone(tz)
    first = EquityPoint(start.astimezone(where), initial)
    return first, *(
        EquityPoint(row.closed_at.astimezone(where), initial + _money(row.run)) for row in rows
    )


def _breakdown_key(dimension: str, key: str | None) -> str | int | None:
    if key is not None and dimension in ("weekday", "hour"):
        return int(key)
    return key


def _breakdowns(rows: list[Row[Any]]) -> dict[str, tuple[BreakdownRow, ...]]:
    grouped: dict[str, list[BreakdownRow]] = {name: [] for name in DIMENSIONS}
    for row in rows:
        dimension = DIMENSIONS[int(row.dimension)]
        key = _breakdown_key(dimension, row.key)
        grouped[dimension].append(BreakdownRow(key, _figures(row, int(row.trades))))
    result: dict[str, tuple[BreakdownRow, ...]] = {}
    for dimension, entries in grouped.items():
        if dimension in ("weekday", "hour"):
            entries.sort(key=lambda entry: (entry.key is None, entry.key or 0))
        else:
            entries.sort(key=lambda entry: (-entry.figures.trades, str(entry.key or "")))
        result[dimension] = tuple(entries)
    return result


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
    """Every figure of the analytics page in six statements; ``tz`` (an IANA zone, UTC if
    unknown) is the zone of the equity curve's times. NotFoundError for a portfolio that does
    not exist or is not ``owner``'s."""
    portfolio = session.execute(
        select(Portfolio.quote_currency, Portfolio.initial_balance).where(
            Portfolio.id == portfolio_id, Portfolio.user_id == owner.id
        )
    ).one_or_none()
    if portfolio is None:
        raise NotFoundError("No such portfolio.")
    initial = portfolio.initial_balance
    totals = session.execute(queries.summary(portfolio_id)).one()
    curve = list(session.execute(queries.equity(portfolio_id)).all())
    start, end = totals.first_opened_at, totals.last_closed_at
    return Analytics(
        portfolio_id=portfolio_id,
        quote_currency=portfolio.quote_currency,
        initial_balance=initial,
        summary=_summary(totals),
        drawdown=_drawdown(curve, initial, start, end),
        equity_curve=_curve(curve, initial, start, tz),
        breakdowns=_breakdowns(list(session.execute(queries.breakdowns(portfolio_id)).all())),
        versus_signals=_versus(
            session.execute(queries.versus_signals(portfolio_id)).one(),
            list(session.execute(queries.latest_linked(portfolio_id)).all()),
        ),
    )
