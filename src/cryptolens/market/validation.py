"""Validation of raw OHLCV rows from an exchange before anything downstream trusts them.

``validate_ohlcv`` turns rows shaped ``[open_time_ms, open, high, low, close, volume]`` (what
CCXT's ``fetch_ohlcv`` returns; longer rows such as Binance's raw 12-field klines are accepted
and read from their first six fields) into column arrays of valid candles plus a count of
rejected rows per :class:`RejectReason`. Every row gets exactly one reason: the first failing
check in the order the enum lists them.

Duplicate open times inside one batch are handled deterministically:

* exact copies (same open time and the same five values) collapse to the first copy and each
  extra copy counts as ``DUPLICATE`` — exchanges do repeat candles across page boundaries;
* copies that disagree are *all* rejected as ``CONFLICTING_DUPLICATE``: nothing in the batch
  says which one is right, so the caller should re-ask rather than guess.

Validity is checked before duplicates, so one malformed copy next to a good one leaves the
good one in place.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from cryptolens.detect.candles import Candles
from cryptolens.domain.timeframes import timeframe_ms

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class RejectReason(StrEnum):
    """Why a raw row was dropped; the order is the order of the checks."""

    MALFORMED = "malformed"  # fewer than six fields, or an open time that is not an integer
    NON_NUMERIC = "non_numeric"  # a price or volume that is not a number ("abc", None, bool)
    NOT_FINITE = "not_finite"  # NaN or +/-inf
    MISALIGNED = "misaligned"  # open time not on a timeframe boundary (UTC, epoch-aligned)
    NON_POSITIVE_PRICE = "non_positive_price"
    NEGATIVE_VOLUME = "negative_volume"
    HIGH_BELOW_LOW = "high_below_low"
    OPEN_CLOSE_OUTSIDE_RANGE = "open_close_outside_range"
    DUPLICATE = "duplicate"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"


@dataclass(frozen=True, slots=True, eq=False)
class ValidatedCandles:
    """The valid candles of a batch and how many rows were rejected, per reason."""

    candles: Candles
    rejects: Mapping[RejectReason, int]

    @property
    def rejected(self) -> int:
        return sum(self.rejects.values())


def _to_float(value: object) -> float | None:
    """A price/volume as a float; None when it is not a number at all (bools are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _to_open_time(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def validate_ohlcv(rows: Sequence[Sequence[object]], timeframe: str) -> ValidatedCandles:
    """Valid candles of ``rows`` (sorted, unique open times) and reject counts by reason."""
    step = timeframe_ms(timeframe)
    rejects: Counter[RejectReason] = Counter()
    times: list[int] = []
    values: list[tuple[float, float, float, float, float]] = []
    for row in rows:
        if len(row) < 6:
            rejects[RejectReason.MALFORMED] += 1
            continue
        open_time = _to_open_time(row[0])
        if open_time is None:
            rejects[RejectReason.MALFORMED] += 1
            continue
        parsed = [_to_float(cell) for cell in row[1:6]]
        if any(cell is None for cell in parsed):
            rejects[RejectReason.NON_NUMERIC] += 1
            continue
        times.append(open_time)
        values.append(tuple(float(cell) for cell in parsed if cell is not None))  # type: ignore[arg-type]
    if not times:
        return ValidatedCandles(Candles.empty(), MappingProxyType(dict(rejects)))

    t = np.asarray(times, dtype=np.int64)
    m = np.asarray(values, dtype=np.float64).reshape(-1, 5)
    o, h, lo, c, v = (m[:, i] for i in range(5))
    keep = np.ones(t.shape[0], dtype=bool)
    with np.errstate(invalid="ignore"):
        checks: list[tuple[RejectReason, npt.NDArray[np.bool_]]] = [
            (RejectReason.NOT_FINITE, np.asarray(~np.isfinite(m).all(axis=1))),
            (RejectReason.MISALIGNED, np.asarray(t % step != 0)),
            (RejectReason.NON_POSITIVE_PRICE, np.asarray((m[:, :4] <= 0).any(axis=1))),
            (RejectReason.NEGATIVE_VOLUME, np.asarray(v < 0)),
            (RejectReason.HIGH_BELOW_LOW, np.asarray(h < lo)),
            (
                RejectReason.OPEN_CLOSE_OUTSIDE_RANGE,
                np.asarray((o > h) | (o < lo) | (c > h) | (c < lo)),
            ),
        ]
    for reason, failed in checks:
        hit = keep & failed
        if hit.any():
            rejects[reason] += int(hit.sum())
            keep &= ~failed

    t, m = t[keep], m[keep]
    # Stable sort keeps arrival order among equal open times, so "first copy" is well defined.
    order = np.argsort(t, kind="stable")
    t, m = t[order], m[order]
    selected = _dedupe(t, m, rejects)
    t, m = t[selected], m[selected]
    candles = Candles(
        t.copy(), m[:, 0].copy(), m[:, 1].copy(), m[:, 2].copy(), m[:, 3].copy(), m[:, 4].copy()
    )
    return ValidatedCandles(candles, MappingProxyType(dict(rejects)))


def _dedupe(t: IntArray, m: FloatArray, rejects: Counter[RejectReason]) -> IntArray:
    """Indices to keep of sorted ``t``: one per open time, none for disagreeing copies."""
    _, first, counts = np.unique(t, return_index=True, return_counts=True)
    if (counts == 1).all():
        return np.arange(t.shape[0], dtype=np.int64)
    kept: list[int] = []
    for start, count in zip(first.tolist(), counts.tolist(), strict=True):
        if count == 1:
            kept.append(start)
            continue
        group = m[start : start + count]
        if (group == group[0]).all():
            kept.append(start)
            rejects[RejectReason.DUPLICATE] += count - 1
        else:
            rejects[RejectReason.CONFLICTING_DUPLICATE] += count
    return np.asarray(kept, dtype=np.int64)


def closed_only(candles: Candles, timeframe: str, now_ms: int) -> Candles:
    """Candles whose period has ended by ``now_ms`` (``open_time + tf <= now_ms``).

    ``now_ms`` must be the exchange's clock (``ExchangeClient.exchange_now_ms``), not the local
    wall clock: a fast local clock would let a still-forming candle through.
    """
    step = timeframe_ms(timeframe)
    closed = candles.open_time + step <= now_ms
    if closed.all():
        return candles
    return candles.take(closed)


def merge_rejects(*parts: Mapping[RejectReason, int]) -> Mapping[RejectReason, int]:
    """Sum reject counts of several batches (e.g. every page and re-ask of one fetch)."""
    total: Counter[RejectReason] = Counter()
    for part in parts:
        total.update(part)
    return MappingProxyType(dict(total))
