"""Binance klines computed on the fly from a base dataset at a market time ``now``.

Any Binance interval that is a whole multiple of the dataset's step is served by resampling:
a bucket is emitted only when every base candle it needs is present (gaps stay gaps). The
newest bucket may be the still-forming one, exactly as Binance returns it; its base candle in
progress is *partial*: with ``f`` the elapsed fraction of that base candle,
``close = open + (close - open) * f``, high/low pulled towards open by ``f``, ``volume * f``.
That is deterministic (a pure function of the data and ``now``) and differs from the final
candle until it closes, so tests can prove a client never stores a forming candle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cryptolens.market.simulator.datasets import Dataset
from cryptolens.market.simulator.refine import can_refine, refine

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
#: Epoch day 0 (1970-01-01) was a Thursday; Binance weeks open on Monday 00:00 UTC.
WEEK_OFFSET_MS = 4 * DAY_MS
MONTH = "1M"

#: Binance spot kline intervals with their fixed length (the calendar month has none: 0).
INTERVALS: dict[str, int] = {
    "1s": SECOND_MS,
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS,
    MONTH: 0,
}


def _fine_step(dataset: Dataset, interval: str) -> int | None:
    """The step to synthesise for ``interval`` finer than the data (1s or 1m), if possible."""
    length = INTERVALS[interval]
    if not length or length >= dataset.step_ms:
        return None
    fine = SECOND_MS if length < MINUTE_MS else MINUTE_MS
    return fine if can_refine(dataset, fine) and length % fine == 0 else None


def supports(dataset: Dataset, interval: str, *, finer: bool = False) -> bool:
    """True when ``interval`` buckets are whole, aligned groups of the dataset's candles
    (or, with ``finer``, of 1s/1m candles synthesised inside them)."""
    length = INTERVALS[interval]
    step = dataset.step_ms
    if interval == MONTH:
        return DAY_MS % step == 0
    if finer and _fine_step(dataset, interval) is not None:
        return True
    if length < step or length % step:
        return False
    return interval != "1w" or WEEK_OFFSET_MS % step == 0


def bucket_starts(times: IntArray, interval: str) -> IntArray:
    if interval == MONTH:
        months = times.astype("datetime64[ms]").astype("datetime64[M]")
        return months.astype("datetime64[ms]").astype(np.int64)
    length = INTERVALS[interval]
    offset = WEEK_OFFSET_MS if interval == "1w" else 0
    return times - (times - offset) % length


def bucket_ends(starts: IntArray, interval: str) -> IntArray:
    """Exclusive end (next bucket's open) of each bucket opening at ``starts``."""
    if interval == MONTH:
        months = starts.astype("datetime64[ms]").astype("datetime64[M]") + np.timedelta64(1, "M")
        return months.astype("datetime64[ms]").astype(np.int64)
    return starts + INTERVALS[interval]


def _bucket_of(moment_ms: int, interval: str) -> int:
    return int(bucket_starts(np.asarray([moment_ms], dtype=np.int64), interval)[0])


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """Aggregated klines as columns (what one /klines response carries, before faults)."""

    open_time: IntArray
    close_time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    quote_volume: FloatArray
    trades: IntArray
    taker_base: FloatArray
    taker_quote: FloatArray

    def __len__(self) -> int:
        return int(self.open_time.shape[0])

    def slice(self, selector: slice | npt.NDArray[np.bool_]) -> Bars:
        return Bars(
            self.open_time[selector],
            self.close_time[selector],
            self.open[selector],
            self.high[selector],
            self.low[selector],
            self.close[selector],
            self.volume[selector],
            self.quote_volume[selector],
            self.trades[selector],
            self.taker_base[selector],
            self.taker_quote[selector],
        )

    def to_binance_rows(self) -> list[list[object]]:
        """Binance's 12-field kline arrays: times as ints, decimals as 8-place strings."""
        rows: list[list[object]] = []
        for i in range(len(self)):
            rows.append(
                [
                    int(self.open_time[i]),
                    f"{self.open[i]:.8f}",
                    f"{self.high[i]:.8f}",
                    f"{self.low[i]:.8f}",
                    f"{self.close[i]:.8f}",
                    f"{self.volume[i]:.8f}",
                    int(self.close_time[i]),
                    f"{self.quote_volume[i]:.8f}",
                    int(self.trades[i]),
                    f"{self.taker_base[i]:.8f}",
                    f"{self.taker_quote[i]:.8f}",
                    "0",
                ]
            )
        return rows


def _aggregate(
    data: Dataset, interval: str, first_bucket: int, last_bucket: int, now_ms: int
) -> Bars:
    """Complete buckets opening in [first_bucket, last_bucket] as seen at ``now_ms``."""
    step = data.step_ms
    last_end = int(bucket_ends(np.asarray([last_bucket], dtype=np.int64), interval)[0])
    upto = min(last_end - 1, now_ms)  # base candles that have opened by now
    i0 = int(np.searchsorted(data.open_time, first_bucket, side="left"))
    i1 = int(np.searchsorted(data.open_time, upto, side="right"))
    t = data.open_time[i0:i1]
    o = np.array(data.open[i0:i1])
    h = np.array(data.high[i0:i1])
    low = np.array(data.low[i0:i1])
    c = np.array(data.close[i0:i1])
    v = np.array(data.volume[i0:i1])
    if t.shape[0] and int(t[-1]) + step > now_ms:
        # The base candle in progress: only the elapsed fraction of it has traded so far.
        f = (now_ms - int(t[-1])) / step
        h[-1] = o[-1] + (h[-1] - o[-1]) * f
        low[-1] = o[-1] - (o[-1] - low[-1]) * f
        c[-1] = o[-1] + (c[-1] - o[-1]) * f
        v[-1] = v[-1] * f
    quote = v * (o + h + low + c) / 4.0
    trades = np.ceil(v * 3.0).astype(np.int64)

    starts = bucket_starts(t, interval)
    uniq, first, counts = np.unique(starts, return_index=True, return_counts=True)
    if not uniq.shape[0]:
        return _empty_bars()
    ends = bucket_ends(uniq, interval)
    closed = ends <= now_ms
    expected = np.where(closed, (ends - uniq) // step, (now_ms - uniq) // step + 1)
    complete = counts == expected
    last = first + counts - 1
    bars = Bars(
        open_time=uniq.astype(np.int64),
        close_time=(ends - 1).astype(np.int64),
        open=o[first],
        high=np.maximum.reduceat(h, first),
        low=np.minimum.reduceat(low, first),
        close=c[last],
        volume=np.add.reduceat(v, first),
        quote_volume=np.add.reduceat(quote, first),
        trades=np.add.reduceat(trades, first),
        taker_base=np.add.reduceat(v, first) * 0.5,
        taker_quote=np.add.reduceat(quote, first) * 0.5,
    )
    return bars.slice(complete)


def _empty_bars() -> Bars:
    ints = np.empty(0, dtype=np.int64)
    floats = np.empty(0, dtype=np.float64)
    return Bars(ints, ints, floats, floats, floats, floats, floats, floats, ints, floats, floats)


def _window(
    data: Dataset,
    interval: str,
    first_bucket: int,
    last_bucket: int,
    now_ms: int,
    refine_seed: int | None,
) -> Bars:
    fine = None if refine_seed is None else _fine_step(data, interval)
    if fine is None:
        return _aggregate(data, interval, first_bucket, last_bucket, now_ms)
    last_end = int(bucket_ends(np.asarray([last_bucket], dtype=np.int64), interval)[0])
    upto = min(last_end - 1, now_ms)
    synthesised = refine(data, fine, first_bucket, upto, seed=refine_seed or 0)
    return _aggregate(synthesised, interval, first_bucket, last_bucket, now_ms)


def _nominal_ms(interval: str) -> int:
    return INTERVALS[interval] or 31 * DAY_MS


def compute_klines(
    data: Dataset,
    interval: str,
    *,
    start_ms: int | None,
    end_ms: int | None,
    limit: int,
    now_ms: int,
    refine_seed: int | None = None,
) -> Bars:
    """What Binance's /api/v3/klines answers at ``now_ms`` (interval must be ``supports``-ed).

    With ``start_ms``: the oldest ``limit`` klines opening at or after it (and not after
    ``end_ms``); without: the newest ``limit`` opening at or before ``end_ms`` (or now).
    Nothing opening after ``now_ms`` is ever returned. With ``refine_seed`` set, intervals
    finer than the data are served from synthesised 1s/1m candles (see ``refine``).
    """
    hi = now_ms if end_ms is None else min(end_ms, now_ms)
    if not len(data) or (start_ms is not None and start_ms > hi):
        return _empty_bars()
    last_bucket = _bucket_of(hi, interval)
    span = _nominal_ms(interval)
    if start_ms is None:
        # Newest first: a window of limit+1 buckets is enough unless the data has gaps there,
        # in which case fewer come back (a simplification over real Binance).
        first = _bucket_of(max(hi - (limit + 1) * span, 0), interval)
        bars = _window(data, interval, first, last_bucket, now_ms, refine_seed)
        return bars.slice(slice(max(len(bars) - limit, 0), None))
    first = _bucket_of(start_ms, interval)
    window = (limit + 1) * span
    while True:
        # Grow the window until it holds `limit` klines, so gaps cost a few passes but a
        # page request never scans the whole remaining history.
        window_last = min(last_bucket, _bucket_of(first + window, interval))
        bars = _window(data, interval, first, window_last, now_ms, refine_seed)
        bars = bars.slice(bars.open_time >= start_ms)
        if len(bars) >= limit or window_last >= last_bucket:
            return bars.slice(slice(0, limit))
        window *= 4
