"""Placebo baseline: would trading at random times have done as well as the strategy?

Each placebo run copies the strategy's trades one for one and keeps everything but the
timing: the same number of trades, the same direction of each, the same entry notional
(``entry_price * quantity``: the same capital committed, whatever the price level at the new
time) and the same holding time, rounded to whole bars (at least one). Each copy enters at
the open of a bar drawn uniformly at random (a ``numpy`` Generator seeded by ``seed``) and
exits at the close of the bar ``holding - 1`` bars later, so it never runs past the last
candle. Fees of ``fee_rate`` are paid on the notional of both fills.

A run's return is its summed P&L over the initial capital (sizes are copied, not compounded),
and the strategy's return is measured the same way from its trades' P&L, so the two compare
like for like. ``beaten`` is the share of runs whose return the strategy's strictly exceeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from cryptolens.backtest.metrics import TradeRecord, check_account, entry_notional
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError

if TYPE_CHECKING:
    from cryptolens.detect.candles import CandleColumns

MAX_RUNS = 10_000
DEFAULT_RUNS = 1_000
#: Placebo trades simulated at once; bounds memory whatever the runs and trades.
_CHUNK_CELLS = 1 << 18


@dataclass(frozen=True, slots=True)
class PlaceboResult:
    """The distribution of placebo returns (fractions) and where the strategy falls in it."""

    runs: int
    seed: int
    strategy_return: float
    #: Each run's return, in the order the runs were drawn.
    returns: tuple[float, ...]
    mean: float
    median: float
    p5: float
    p25: float
    p75: float
    p95: float
    beaten: float


def placebo_baseline(
    candles: CandleColumns,
    trades: Sequence[TradeRecord],
    *,
    bar_ms: int,
    initial_capital: float,
    fee_rate: float,
    seed: int,
    runs: int = DEFAULT_RUNS,
) -> PlaceboResult:
    """Simulate ``runs`` placebo copies of ``trades`` on ``candles``; deterministic for a seed.

    Raises ValidationError for bad settings or a trade held longer than the candles last.
    """
    opens, closes = _prices(candles)
    check_account(initial_capital=initial_capital, bar_ms=bar_ms)
    if not (math.isfinite(fee_rate) and 0 <= fee_rate < 1):
        raise ValidationError("the fee rate must be a fraction of the notional, from 0 to below 1")
    if not 1 <= runs <= MAX_RUNS:
        raise ValidationError(f"placebo runs must be between 1 and {MAX_RUNS}")
    notional = np.array([entry_notional(trade) for trade in trades], dtype=np.float64)
    holding = np.array([_holding_bars(trade, bar_ms) for trade in trades], dtype=np.int64)
    if len(holding) and int(holding.max()) > len(opens):
        raise ValidationError(
            f"a trade is held {int(holding.max())} bars, longer than the {len(opens)} candles"
        )
    sign = np.array(
        [1.0 if trade.direction is Direction.BULLISH else -1.0 for trade in trades],
        dtype=np.float64,
    )
    rng = np.random.default_rng(seed)
    pnl = np.empty(runs, dtype=np.float64)
    rows = max(1, _CHUNK_CELLS // max(1, len(holding)))
    for first in range(0, runs, rows):
        count = min(rows, runs - first)
        starts = draw_entry_bars(rng, bars=len(opens), holding=holding, runs=count)
        entry = opens[starts]
        exit_ = closes[starts + holding - 1]
        quantity = notional / entry
        gross = sign * quantity * (exit_ - entry)
        fees = fee_rate * quantity * (entry + exit_)
        pnl[first : first + count] = (gross - fees).sum(axis=1)
    returns = pnl / initial_capital
    strategy_return = float(sum(trade.pnl for trade in trades)) / initial_capital
    p5, p25, median, p75, p95 = (float(v) for v in np.percentile(returns, [5, 25, 50, 75, 95]))
    return PlaceboResult(
        runs=runs,
        seed=seed,
        strategy_return=strategy_return,
        returns=tuple(float(v) for v in returns),
        mean=float(returns.mean()),
        median=median,
        p5=p5,
        p25=p25,
        p75=p75,
        p95=p95,
        beaten=float(np.mean(strategy_return > returns)),
    )


def draw_entry_bars(
    rng: np.random.Generator, *, bars: int, holding: npt.NDArray[np.int64], runs: int
) -> npt.NDArray[np.int64]:
    """Entry bar of each trade (columns) in each run (rows): uniform over the bars from which
    a trade held ``holding`` bars still exits on or before the last bar."""
    return rng.integers(0, bars - holding + 1, size=(runs, len(holding)), dtype=np.int64)


def _prices(
    candles: CandleColumns,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    opens = np.asarray(candles.open, dtype=np.float64)
    closes = np.asarray(candles.close, dtype=np.float64)
    if len(opens) == 0 or len(opens) != len(closes):
        raise ValidationError("the placebo needs candles with an open and a close each")
    if not (np.all(np.isfinite(opens) & (opens > 0)) and np.all(np.isfinite(closes))):
        raise ValidationError("the placebo's candles need positive, finite prices")
    return opens, closes


def _holding_bars(trade: TradeRecord, bar_ms: int) -> int:
    held = trade.exit_time - trade.entry_time
    return max(1, (held + bar_ms // 2) // bar_ms)
