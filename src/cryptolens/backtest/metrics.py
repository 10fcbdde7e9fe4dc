"""Backtest metrics: an equity curve and closed trades in, the figures established backtesting
libraries report out.

Conventions (every figure below follows them):

* **Equity curve.** ``times`` are strictly increasing epoch ms, one point per bar of
  ``bar_ms``; ``equity`` is the account's marked-to-market value at each time. The first point
  is the start of the test (normally the initial capital). The test spans
  ``T = times[-1] - times[0]`` ms.
* **Years.** Crypto trades every day: a year is 365 days (``YEAR_MS``), so a curve has
  ``P = YEAR_MS / bar_ms`` periods a year (8,760 for hourly bars, 525,600 for minutes).
* **Risk-free rate = 0**, and the Sortino target return is 0.
* **Period returns** ``r_i = equity[i] / equity[i-1] - 1``; undefined (all return statistics
  None) when any equity point is zero or below (ruin).
* **Undefined is None.** A figure that would be infinite or NaN (no trades, no losses, flat
  equity, a single bar) is None, never ``inf`` or ``nan``.

Formulas:

* total return = ``equity[-1] / initial_capital - 1``
* CAGR = ``(equity[-1] / initial_capital) ** (YEAR_MS / T) - 1`` (``-1`` once equity is gone)
* volatility (annualised) = ``std(r, ddof=1) * sqrt(P)``
* Sharpe = ``mean(r) / std(r, ddof=1) * sqrt(P)``
* Sortino = ``mean(r) / DD * sqrt(P)``, downside deviation ``DD = sqrt(mean(min(r, 0)**2))``
  over all periods
* drawdown at ``i`` = ``1 - equity[i] / peak_i``, ``peak_i = max(equity[:i+1])``; max drawdown
  is the largest (capped at 1: a curve below zero is total ruin), its amount
  ``peak - equity`` at that same point, its duration from that peak's time to the first later
  time equity is back at the peak, or to ``times[-1]`` if it never is. ``longest_drawdown_ms``
  is the longest such underwater stretch of any depth (backtesting.py's "Max. Drawdown
  Duration").
* Calmar = ``CAGR / max drawdown``
* exposure = time covered by at least one open trade (``[entry, exit]`` clipped to the curve)
  divided by ``T``
* trade return = ``pnl / (entry_price * quantity)``: net of fees, on the entry notional
* win rate = trades with ``pnl > 0`` / trades
* profit factor = winning trades' summed P&L / |losing trades' summed P&L|
* expectancy (R) = ``mean(r_multiple)`` over trades that have one; expectancy (%) = mean trade
  return
* average trade (%) = geometric mean, ``prod(1 + trade return) ** (1 / N) - 1`` (as
  backtesting.py reports it); None once a trade lost all its notional or more
* SQN (Van Tharp) = ``sqrt(min(N, 100)) * mean(R) / std(R, ddof=1)`` over the N trades with an
  R multiple; N is capped at 100, as Van Tharp does, so long tests do not score higher for
  their length alone.
* buy and hold = ``prices[-1] / prices[0] - 1``
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import DAY_MS

YEAR_MS = 365 * DAY_MS
SQN_TRADE_CAP = 100

FloatArray = npt.NDArray[np.float64]


class TradeRecord(Protocol):
    """What the metrics read from a closed trade (times in epoch ms)."""

    @property
    def entry_time(self) -> int: ...
    @property
    def exit_time(self) -> int: ...
    @property
    def entry_price(self) -> float: ...
    @property
    def exit_price(self) -> float: ...
    @property
    def quantity(self) -> float: ...
    @property
    def direction(self) -> Direction: ...
    @property
    def pnl(self) -> float: ...
    @property
    def fees(self) -> float: ...
    @property
    def r_multiple(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One closed trade: ``pnl`` is net of ``fees``; ``quantity`` is positive for either
    direction; ``r_multiple`` is None when the trade had no stop to measure risk by."""

    entry_time: int
    exit_time: int
    entry_price: float
    exit_price: float
    quantity: float
    direction: Direction
    pnl: float
    fees: float
    r_multiple: float | None = None


@dataclass(frozen=True, slots=True)
class Metrics:
    """A backtest's figures; fractions, not percent (0.12 is 12 %). See the module docstring
    for each formula."""

    start_time: int
    end_time: int
    initial_capital: float
    final_equity: float
    total_return: float
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float
    max_drawdown_amount: float
    max_drawdown_duration_ms: int
    longest_drawdown_ms: int
    exposure: float | None
    trades: int
    win_rate: float | None
    profit_factor: float | None
    expectancy_r: float | None
    expectancy_pct: float | None
    sqn: float | None
    avg_trade_pct: float | None
    best_trade_pct: float | None
    worst_trade_pct: float | None
    avg_duration_ms: float | None
    fees_paid: float
    buy_and_hold_return: float | None
    ambiguous: int


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The deepest drawdown of a curve and the longest time spent under a peak."""

    fraction: float
    amount: float
    duration_ms: int
    longest_ms: int


def compute_metrics(
    times: Sequence[int] | npt.NDArray[np.int64],
    equity: Sequence[float] | FloatArray,
    trades: Sequence[TradeRecord],
    *,
    initial_capital: float,
    bar_ms: int,
    buy_and_hold_prices: Sequence[float] | FloatArray = (),
    ambiguous: int = 0,
) -> Metrics:
    """Every figure of one backtest; raises ValidationError for a malformed curve or input.

    ``buy_and_hold_prices`` are the traded symbol's prices over the same span (the first
    bar's open, then the closes, say); ``ambiguous`` is the engine's count of trades whose
    candle touched stop and target, passed through for the report.
    """
    t, e = _validated_curve(times, equity)
    check_account(initial_capital=initial_capital, bar_ms=bar_ms)
    if ambiguous < 0:
        raise ValidationError("the ambiguous-candle count cannot be negative")
    span = int(t[-1] - t[0])
    periods_per_year = YEAR_MS / bar_ms
    final = float(e[-1])
    returns = _period_returns(e)
    cagr = _cagr(final / initial_capital, span)
    drawdown = max_drawdown(t, e)
    calmar = _ratio(cagr, drawdown.fraction) if cagr is not None else None
    trade_returns = np.array([_trade_return(trade) for trade in trades], dtype=np.float64)
    pnl = np.array([trade.pnl for trade in trades], dtype=np.float64)
    r_multiples = np.array(
        [trade.r_multiple for trade in trades if trade.r_multiple is not None], dtype=np.float64
    )
    durations = np.array([trade.exit_time - trade.entry_time for trade in trades], dtype=np.int64)
    return Metrics(
        start_time=int(t[0]),
        end_time=int(t[-1]),
        initial_capital=initial_capital,
        final_equity=final,
        total_return=final / initial_capital - 1,
        cagr=cagr,
        volatility=_volatility(returns, periods_per_year),
        sharpe=_sharpe(returns, periods_per_year),
        sortino=_sortino(returns, periods_per_year),
        calmar=calmar,
        max_drawdown=drawdown.fraction,
        max_drawdown_amount=drawdown.amount,
        max_drawdown_duration_ms=drawdown.duration_ms,
        longest_drawdown_ms=drawdown.longest_ms,
        exposure=exposure(trades, start=int(t[0]), end=int(t[-1])),
        trades=len(trades),
        win_rate=float(np.mean(pnl > 0)) if len(pnl) else None,
        profit_factor=profit_factor(pnl),
        expectancy_r=_mean(r_multiples),
        expectancy_pct=_mean(trade_returns),
        sqn=sqn(r_multiples),
        avg_trade_pct=_geometric_mean(trade_returns),
        best_trade_pct=float(trade_returns.max()) if len(trade_returns) else None,
        worst_trade_pct=float(trade_returns.min()) if len(trade_returns) else None,
        avg_duration_ms=float(durations.mean()) if len(durations) else None,
        fees_paid=float(sum(trade.fees for trade in trades)),
        buy_and_hold_return=buy_and_hold_return(buy_and_hold_prices),
        ambiguous=ambiguous,
    )


def _validated_curve(
    times: Sequence[int] | npt.NDArray[np.int64], equity: Sequence[float] | FloatArray
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    t = np.asarray(times, dtype=np.int64)
    e = np.asarray(equity, dtype=np.float64)
    if t.ndim != 1 or e.ndim != 1 or len(t) != len(e):
        raise ValidationError("the equity curve needs one equity value per time")
    if len(t) == 0:
        raise ValidationError("the equity curve is empty")
    if not np.all(np.isfinite(e)):
        raise ValidationError("the equity curve holds a value that is not a finite number")
    if len(t) > 1 and not np.all(np.diff(t) > 0):
        raise ValidationError("the equity curve's times must be strictly increasing")
    return t, e


def _period_returns(equity: FloatArray) -> FloatArray | None:
    """Bar-to-bar returns, or None when the curve reaches zero (returns are then undefined)."""
    if np.any(equity <= 0):
        return None
    with np.errstate(over="ignore"):
        returns = equity[1:] / equity[:-1] - 1
    # A rise from a near-zero balance can overflow; such a curve has no usable returns.
    return returns if np.all(np.isfinite(returns)) else None


def _ratio(numerator: float, denominator: float) -> float | None:
    if denominator == 0:
        return None
    value = numerator / denominator
    return value if math.isfinite(value) else None


def _mean(values: FloatArray) -> float | None:
    return float(values.mean()) if len(values) else None


def _geometric_mean(returns: FloatArray) -> float | None:
    if len(returns) == 0 or np.any(returns <= -1):
        return None
    return float(np.expm1(np.log1p(returns).mean()))


def _cagr(growth: float, span_ms: int) -> float | None:
    if span_ms <= 0:
        return None
    if growth <= 0:
        return -1.0
    try:
        value = math.exp(math.log(growth) * YEAR_MS / span_ms) - 1
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _volatility(returns: FloatArray | None, periods_per_year: float) -> float | None:
    if returns is None or len(returns) < 2:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(returns.std(ddof=1) * math.sqrt(periods_per_year))
    return value if math.isfinite(value) else None


def _sharpe(returns: FloatArray | None, periods_per_year: float) -> float | None:
    if returns is None or len(returns) < 2:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = _ratio(float(returns.mean()), float(returns.std(ddof=1)))
    return None if ratio is None else ratio * math.sqrt(periods_per_year)


def _sortino(returns: FloatArray | None, periods_per_year: float) -> float | None:
    if returns is None or len(returns) < 2:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
        ratio = _ratio(float(returns.mean()), downside)
    return None if ratio is None else ratio * math.sqrt(periods_per_year)


def max_drawdown(
    times: npt.NDArray[np.int64] | Sequence[int], equity: FloatArray | Sequence[float]
) -> Drawdown:
    """The deepest fall from a running peak (fraction and amount), how long until that peak
    was regained (or the curve ended), and the longest underwater stretch of any depth."""
    t, e = _validated_curve(times, equity)
    peaks = np.maximum.accumulate(e)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fractions = np.where(peaks > 0, 1 - e / peaks, 0.0)
    fractions = np.clip(fractions, 0.0, 1.0)
    deepest = int(np.argmax(fractions))
    if fractions[deepest] == 0:
        return Drawdown(0.0, 0.0, 0, 0)
    peak_at = int(np.flatnonzero(e[: deepest + 1] == peaks[deepest])[-1])
    return Drawdown(
        fraction=float(fractions[deepest]),
        amount=float(peaks[deepest] - e[deepest]),
        duration_ms=_underwater_ms(t, e, peak_at),
        longest_ms=_longest_underwater_ms(t, e, peaks),
    )


def _underwater_ms(t: npt.NDArray[np.int64], e: FloatArray, peak_at: int) -> int:
    recovered = np.flatnonzero(e[peak_at + 1 :] >= e[peak_at])
    end = t[peak_at + 1 + recovered[0]] if len(recovered) else t[-1]
    return int(end - t[peak_at])


def _longest_underwater_ms(t: npt.NDArray[np.int64], e: FloatArray, peaks: FloatArray) -> int:
    # A new (or equalled) peak starts a stretch; the stretch ends at the next such point or at
    # the end of the curve, and only stretches that went under the peak count.
    at_peak = np.flatnonzero(e >= peaks)
    ends = np.append(t[at_peak[1:]], t[-1])
    lengths = ends - t[at_peak]
    underwater = np.append(at_peak[1:] - at_peak[:-1] > 1, at_peak[-1] < len(e) - 1)
    return int(lengths[underwater].max()) if underwater.any() else 0


def exposure(trades: Sequence[TradeRecord], *, start: int, end: int) -> float | None:
    """Share of ``[start, end]`` covered by at least one open trade; None for an empty span."""
    if end <= start:
        return None
    intervals = sorted(
        (max(trade.entry_time, start), min(trade.exit_time, end)) for trade in trades
    )
    covered = 0
    reach = start
    for begin, finish in intervals:
        begin = max(begin, reach)
        if finish > begin:
            covered += finish - begin
            reach = finish
    return covered / (end - start)


def profit_factor(pnl: FloatArray) -> float | None:
    """Gross profit over gross loss; None without trades or without a losing trade."""
    gross_loss = -float(pnl[pnl < 0].sum())
    if gross_loss == 0:
        return None
    return _ratio(float(pnl[pnl > 0].sum()), gross_loss)


def sqn(r_multiples: FloatArray) -> float | None:
    """Van Tharp's System Quality Number, N capped at ``SQN_TRADE_CAP``."""
    if len(r_multiples) < 2:
        return None
    ratio = _ratio(float(r_multiples.mean()), float(r_multiples.std(ddof=1)))
    if ratio is None:
        return None
    return math.sqrt(min(len(r_multiples), SQN_TRADE_CAP)) * ratio


def buy_and_hold_return(prices: Sequence[float] | FloatArray) -> float | None:
    """Return of holding from the first price to the last; None without a usable first price."""
    p = np.asarray(prices, dtype=np.float64)
    if len(p) == 0 or not np.all(np.isfinite(p[[0, -1]])) or p[0] <= 0:
        return None
    return float(p[-1] / p[0] - 1)


def check_account(*, initial_capital: float, bar_ms: int) -> None:
    """Raise ValidationError unless the capital and the bar interval are positive."""
    if not (math.isfinite(initial_capital) and initial_capital > 0):
        raise ValidationError("initial capital must be a positive number")
    if bar_ms <= 0:
        raise ValidationError("the bar interval must be a positive number of milliseconds")


def entry_notional(trade: TradeRecord) -> float:
    """``entry_price * quantity``; raises ValidationError for a trade that is not well formed
    (no positive notional, or an exit before the entry)."""
    notional = trade.entry_price * trade.quantity
    if not (math.isfinite(notional) and notional > 0):
        raise ValidationError("a trade needs a positive entry price and quantity")
    if trade.exit_time < trade.entry_time:
        raise ValidationError("a trade cannot exit before it enters")
    return notional


def _trade_return(trade: TradeRecord) -> float:
    return trade.pnl / entry_notional(trade)
