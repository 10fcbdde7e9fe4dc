"""What the analytics page shows, as plain frozen dataclasses: the part the portfolio's own
trades decide (``TradeAnalytics``, which a snapshot keeps) and "you vs the signals", which
signal outcomes change outside the portfolio's writes and so is always read live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cryptolens.services.portfolio.analytics_rollup import Figures


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
class TradeAnalytics:
    """Every figure derived from the portfolio's own trades (and its initial balance)."""

    summary: Summary
    drawdown: Drawdown
    #: At most ``MAX_CURVE_POINTS``; empty without closed trades.
    equity_curve: tuple[EquityPoint, ...]
    #: Breakdown name (``analytics_rollup.DIMENSIONS``) -> rows, most trades first (weekday
    #: and hour in order).
    breakdowns: dict[str, tuple[BreakdownRow, ...]]


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
