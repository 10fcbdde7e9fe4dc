"""Pure, vectorised aggregation of base-timeframe candles into higher, UTC-aligned timeframes.

The base timeframe (1m by default, 1h for hourly data, ...) is the source of truth; every
higher timeframe is derived from it here and nowhere else.  Nothing in this module does I/O
or mutates its inputs.

Buckets
    A ``target`` candle covers the half-open period ``[bucket, bucket + tf)`` where
    ``bucket = open_time - open_time % tf`` (epoch milliseconds, so buckets are UTC-aligned:
    1d buckets start at 00:00 UTC, 4h buckets at 00, 04, 08, ... UTC).  The target must be a
    whole multiple of the base timeframe, and every base open time must be aligned to the base
    timeframe, so each bucket holds exactly ``expected = tf // base`` base slots.

Closure and completeness
    A bucket is *closed* when its period has ended by the *horizon*:
    ``bucket + tf <= horizon``.  The horizon is ``now_ms`` when the caller gives it (the clock
    is authoritative), otherwise it is inferred from the data: the close time of the newest base
    candle (``open_time[-1] + base``), pushed later by any ``known_holes`` the exchange has
    confirmed.  So, without ``now_ms``, a bucket is closed when all its constituents are present,
    when a later base candle exists, or when its last slot is present (its period is over even
    though a slot in the middle is missing).  Only closed buckets are emitted; the bucket still
    forming at the tail never is.  Buckets with no base candle at all are never emitted (there is
    no price to report).  An emitted bucket carries ``count`` (base candles present) and
    ``complete = count == expected``; ``complete=False`` marks a hole at the exchange.
    Callers should pass only base candles whose own period has ended, or give ``now_ms``.

Revisions
    A higher-timeframe candle depends only on the base candles inside its bucket.  When base
    candles are revised or newly inserted, :func:`affected_buckets` names the buckets to recompute
    and :func:`reaggregation_ranges` gives merged ``[start, end)`` base open-time windows that
    cover every affected bucket of every target.  Re-aggregating the base candles of such a
    window with the *same horizon* (pass ``now_ms``; a window's own data does not know what lies
    after it) yields the rows a full re-aggregation would give for those buckets: prices,
    counts and flags exactly, volume up to float rounding (in practice bit for bit).

Exactness of the hierarchical path
    :func:`aggregate_all` rolls targets up from each other (5m from 1m, 15m from 5m, ...): max,
    min, first, last and counts compose exactly.  Float sums do not: adding per-5m subtotals can
    differ in the last bit from adding the 1m volumes.  Volume is therefore always summed from
    the base candles, with the same ``np.add.reduceat`` call over the same segments as
    :func:`aggregate_candles`, so both paths agree bit for bit on every column.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptolens.detect.candles import Candles, as_candles
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import TIMEFRAME_MS, ms_to_datetime, timeframe_ms

__all__ = [
    "AggregatedCandles",
    "affected_buckets",
    "aggregate_all",
    "aggregate_candles",
    "reaggregation_ranges",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
COLUMNS = ("open_time", *PRICE_COLUMNS)


def _describe_ms(ms: int) -> str:
    try:
        return f"{ms} ({ms_to_datetime(ms).isoformat()})"
    except (OverflowError, OSError, ValueError):
        return str(ms)


def _int_times(values: Any, name: str) -> IntArray:
    """``values`` as a 1-D int64 array of epoch milliseconds (no copy when already one)."""
    array = np.asarray(values)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValidationError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        return np.empty(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise ValidationError(
            f"{name} must hold integer epoch milliseconds, got dtype {array.dtype}"
        )
    return array.astype(np.int64, copy=False)


@dataclass(frozen=True, slots=True)
class AggregatedCandles:
    """Closed buckets of one target timeframe, oldest first.

    ``open_time`` is the bucket start; ``open``/``close`` come from the first/last base candle
    present, ``high``/``low`` are the extremes, ``volume`` the sum.  ``count`` is the number of
    base candles present, ``expected`` the number a full bucket holds (``tf // base``), and
    ``complete`` is ``count == expected``.
    """

    timeframe: str
    base_timeframe: str
    expected: int
    open_time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    count: IntArray
    complete: BoolArray

    def __len__(self) -> int:
        return int(self.open_time.shape[0])

    def only(self, bucket_open_times: IntArray) -> AggregatedCandles:
        """The buckets among ``bucket_open_times`` (the rest dropped)."""
        keep = np.isin(self.open_time, bucket_open_times)
        return replace(
            self,
            **{
                name: getattr(self, name)[keep]
                for name in ("open_time", *PRICE_COLUMNS, "count", "complete")
            },
        )

    def as_candles(self) -> Candles:
        """The OHLCV columns alone (shared, not copied; aggregates of valid candles are valid)."""
        return Candles(
            open_time=self.open_time,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
        )

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame with the OHLCV columns plus ``count``, ``expected`` and ``complete``."""
        frame = self.as_candles().to_frame()
        frame["count"] = self.count
        frame["expected"] = np.full(len(self), self.expected, dtype=np.int64)
        frame["complete"] = self.complete
        return frame


@dataclass(frozen=True, slots=True)
class _Level:
    """Every non-empty bucket of one timeframe (closed or not) plus where it starts in the base.

    ``count`` is the number of base candles in each bucket, ``first`` the base index of its first.
    """

    open_time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    count: IntArray
    first: IntArray


def _roll_up(source: _Level | Candles, tf_ms: int) -> _Level:
    """Merge consecutive rows of ``source`` (base candles or a lower level) per ``tf_ms`` bucket."""
    n = int(source.open_time.shape[0])
    if n == 0:
        empty_f = np.empty(0, dtype=np.float64)
        empty_i = np.empty(0, dtype=np.int64)
        return _Level(empty_i, empty_f, empty_f, empty_f, empty_f, empty_i, empty_i)
    ids = source.open_time // tf_ms
    change = np.flatnonzero(ids[1:] != ids[:-1])
    starts = np.empty(change.shape[0] + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = change + 1
    lasts = np.empty_like(starts)
    lasts[:-1] = change
    lasts[-1] = n - 1
    if isinstance(source, Candles):
        count, first = lasts - starts + 1, starts
    else:
        count, first = np.add.reduceat(source.count, starts), source.first[starts]
    return _Level(
        open_time=ids[starts] * tf_ms,
        open=source.open[starts],
        high=np.maximum.reduceat(source.high, starts),
        low=np.minimum.reduceat(source.low, starts),
        close=source.close[lasts],
        count=count,
        first=first,
    )


def _finish(
    level: _Level,
    volume: FloatArray,
    *,
    timeframe: str,
    base_timeframe: str,
    expected: int,
    horizon: int | None,
) -> AggregatedCandles:
    """Keep the closed buckets of ``level`` (a prefix, as bucket ends increase) and add volume."""
    tf_ms = timeframe_ms(timeframe)
    if horizon is None or level.open_time.shape[0] == 0:
        closed = 0
    else:
        closed = int(np.searchsorted(level.open_time, horizon - tf_ms, side="right"))
    # Summed over every bucket (reduceat runs the last segment to the end of the array), then cut.
    sums = np.add.reduceat(volume, level.first) if closed else np.empty(0, dtype=np.float64)
    count = level.count[:closed]
    return AggregatedCandles(
        timeframe=timeframe,
        base_timeframe=base_timeframe,
        expected=expected,
        open_time=level.open_time[:closed],
        open=level.open[:closed],
        high=level.high[:closed],
        low=level.low[:closed],
        close=level.close[:closed],
        volume=sums[:closed],
        count=count,
        complete=count == expected,
    )


def _validate_base(base: Candles, base_timeframe: str) -> tuple[Candles, int]:
    candles = as_candles(base)  # ordering and prices: the one candle validation
    base_ms = timeframe_ms(base_timeframe)
    times = candles.open_time
    misaligned = times % base_ms
    if bool(misaligned.any()):
        i = int(np.flatnonzero(misaligned)[0])
        raise ValidationError(
            f"open_time {_describe_ms(int(times[i]))} at index {i} is not aligned to the "
            f"base timeframe {base_timeframe!r} (not a multiple of {base_ms} ms)"
        )
    return candles, base_ms


def _validate_target(target: str, base_timeframe: str, base_ms: int) -> int:
    tf_ms = timeframe_ms(target)
    if tf_ms < base_ms or tf_ms % base_ms:
        raise ValidationError(
            f"target timeframe {target!r} ({tf_ms} ms) is not a whole multiple of the base "
            f"timeframe {base_timeframe!r} ({base_ms} ms)"
        )
    return tf_ms


def _horizon(
    times: IntArray, base_ms: int, now_ms: int | None, known_holes: npt.ArrayLike | None
) -> int | None:
    """The instant up to which bucket periods count as ended (see the module docstring)."""
    holes = _int_times([] if known_holes is None else known_holes, "known_holes")
    if holes.size:
        if bool((holes % base_ms).any()):
            bad = int(holes[np.flatnonzero(holes % base_ms)[0]])
            raise ValidationError(
                f"known hole {_describe_ms(bad)} is not aligned to the base timeframe "
                f"({base_ms} ms)"
            )
        if times.shape[0]:
            at = np.minimum(np.searchsorted(times, holes), times.shape[0] - 1)
            present = np.flatnonzero(times[at] == holes)
            if present.size:
                bad = int(holes[present[0]])
                raise ValidationError(f"known hole {_describe_ms(bad)} is present in the data")
    if now_ms is not None:
        return operator.index(now_ms)
    ends = [int(times[-1]) + base_ms] if times.shape[0] else []
    if holes.size:
        ends.append(int(holes.max()) + base_ms)
    return max(ends) if ends else None


def aggregate_candles(
    base: Candles,
    *,
    base_timeframe: str,
    target_timeframe: str,
    now_ms: int | None = None,
    known_holes: npt.ArrayLike | None = None,
) -> AggregatedCandles:
    """Aggregate ``base`` candles directly into the closed buckets of ``target_timeframe``.

    ``base`` needs strictly increasing open times aligned to ``base_timeframe``; the target must
    be a whole multiple of the base.  ``now_ms`` (epoch ms), when given, decides which buckets
    have closed; otherwise the data does (its newest candle's close time, or the latest
    ``known_holes`` slot: base open times the exchange confirmed have no candle).
    Raises ValidationError on any violated rule.  Never mutates ``base``.
    """
    candles, base_ms = _validate_base(base, base_timeframe)
    tf_ms = _validate_target(target_timeframe, base_timeframe, base_ms)
    horizon = _horizon(candles.open_time, base_ms, now_ms, known_holes)
    return _finish(
        _roll_up(candles, tf_ms),
        candles.volume,
        timeframe=target_timeframe,
        base_timeframe=base_timeframe,
        expected=tf_ms // base_ms,
        horizon=horizon,
    )


def aggregate_all(
    base: Candles,
    *,
    base_timeframe: str,
    targets: Iterable[str] | None = None,
    now_ms: int | None = None,
    known_holes: npt.ArrayLike | None = None,
) -> dict[str, AggregatedCandles]:
    """Aggregate ``base`` into every target timeframe at once, hierarchically.

    Same rules and results as calling :func:`aggregate_candles` per target (bit for bit, volume
    included), but each target is rolled up from the largest already computed timeframe that
    divides it.  ``targets=None`` means every known timeframe longer than the base that it
    divides.  The result is keyed by target, in the order given.
    """
    candles, base_ms = _validate_base(base, base_timeframe)
    if targets is None:
        names = [tf for tf, ms in TIMEFRAME_MS.items() if ms > base_ms and ms % base_ms == 0]
    else:
        names = list(dict.fromkeys(targets))
    sizes = {name: _validate_target(name, base_timeframe, base_ms) for name in names}
    horizon = _horizon(candles.open_time, base_ms, now_ms, known_holes)
    levels: dict[int, _Level | Candles] = {base_ms: candles}
    results: dict[str, AggregatedCandles] = {}
    for name in sorted(names, key=sizes.__getitem__):
        tf_ms = sizes[name]
        source = max(ms for ms in levels if tf_ms % ms == 0)
        level = _roll_up(levels[source], tf_ms)
        levels[tf_ms] = level
        results[name] = _finish(
            level,
            candles.volume,
            timeframe=name,
            base_timeframe=base_timeframe,
            expected=tf_ms // base_ms,
            horizon=horizon,
        )
    return {name: results[name] for name in names}


def affected_buckets(revised_open_times: npt.ArrayLike, target_timeframe: str) -> IntArray:
    """Sorted, unique open times of the ``target_timeframe`` buckets holding the revised candles.

    ``revised_open_times`` are base open times (epoch ms) that were revised or newly inserted.
    """
    times = _int_times(revised_open_times, "revised_open_times")
    tf_ms = timeframe_ms(target_timeframe)
    return np.unique(times - times % tf_ms)


def reaggregation_ranges(
    revised_open_times: npt.ArrayLike, targets: Iterable[str]
) -> list[tuple[int, int]]:
    """Merged ``[start, end)`` base open-time windows covering every affected bucket.

    Load the base candles with ``start <= open_time < end`` for each window and re-aggregate
    them (with ``now_ms``, so the horizon matches a full run); the closed buckets that come out
    are exactly the rows to upsert.  Overlapping or touching windows are merged.
    """
    times = _int_times(revised_open_times, "revised_open_times")
    names = list(dict.fromkeys(targets))
    if times.size == 0 or not names:
        return []
    starts_parts: list[IntArray] = []
    ends_parts: list[IntArray] = []
    for name in names:
        tf_ms = timeframe_ms(name)
        buckets = affected_buckets(times, name)
        starts_parts.append(buckets)
        ends_parts.append(buckets + tf_ms)
    starts = np.concatenate(starts_parts)
    ends = np.concatenate(ends_parts)
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    opens = np.empty(starts.shape[0], dtype=np.bool_)
    opens[0] = True
    opens[1:] = starts[1:] > reach[:-1]
    closes = np.empty_like(opens)
    closes[:-1] = opens[1:]
    closes[-1] = True
    return [(int(s), int(e)) for s, e in zip(starts[opens], reach[closes], strict=True)]
