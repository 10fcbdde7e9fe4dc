"""True range and Wilder's ATR, resumable from a carried state with bit-identical results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptolens.detect.candles import Candles, FloatArray


@dataclass(frozen=True, slots=True)
class AtrState:
    """Everything Wilder's recursion needs to continue after the last candle seen."""

    period: int
    count: int = 0
    tr_sum: float = 0.0
    atr: float = float("nan")
    prev_close: float = float("nan")


def true_range(
    high: FloatArray, low: FloatArray, close: FloatArray, prev_close: float
) -> FloatArray:
    """Per-candle true range; the very first candle (no previous close) uses high - low."""
    previous = np.empty_like(close)
    if close.shape[0]:
        previous[0] = prev_close
        previous[1:] = close[:-1]
    span = high - low
    with np.errstate(invalid="ignore"):
        gap = np.maximum(np.abs(high - previous), np.abs(low - previous))
    # NaN previous close (start of data) must fall back to the plain range.
    return np.where(np.isnan(gap), span, np.maximum(span, gap))


def wilder_atr(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    state: AtrState,
) -> tuple[FloatArray, AtrState]:
    """ATR of each new candle continuing from ``state``, and the state after the last one.

    The first ``period`` values are the running mean of the true ranges seen so far (so ATR is
    defined from the first candle on and the value at ``period - 1`` is Wilder's SMA seed);
    after that ATR[t] = ATR[t-1] + (TR[t] - ATR[t-1]) / period, the exponential mean with
    alpha = 1/period. Both parts are computed by recurrences whose only state is carried in
    ``AtrState``, so feeding candles in any number of pieces gives exactly the same floats.
    """
    n = int(close.shape[0])
    tr = true_range(high, low, close, state.prev_close)
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out, state
    period = state.period
    warm = max(0, min(n, period - state.count))
    tr_sum = state.tr_sum
    last = state.atr
    if warm:
        # np.cumsum accumulates strictly left to right, so resuming from tr_sum is exact.
        sums = np.cumsum(np.concatenate(([tr_sum], tr[:warm])))[1:]
        out[:warm] = sums / np.arange(state.count + 1, state.count + warm + 1, dtype=np.float64)
        tr_sum = float(sums[-1])
        last = float(out[warm - 1])
    if warm < n:
        # pandas' adjust=False recursion keeps only the previous mean as state, so seeding it
        # with the carried ATR reproduces an uninterrupted run bit for bit.
        seeded = np.concatenate(([last], tr[warm:]))
        smoothed = pd.Series(seeded).ewm(alpha=1.0 / period, adjust=False).mean().to_numpy()
        out[warm:] = smoothed[1:]
        last = float(out[-1])
    return out, AtrState(
        period=period,
        count=state.count + n,
        tr_sum=tr_sum,
        atr=last,
        prev_close=float(close[-1]),
    )


def atr(candles: Candles, period: int = 14) -> FloatArray:
    """Wilder ATR of every candle (running mean of true range until ``period`` candles exist)."""
    values, _ = wilder_atr(candles.high, candles.low, candles.close, AtrState(period=period))
    return values
