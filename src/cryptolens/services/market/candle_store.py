"""Storing fetched candles: upsert the base timeframe, then rebuild only the aggregate buckets
whose constituents changed (or whose period has just ended)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from cryptolens.db.candles import latest_open_time, load_candles, upsert_candles
from cryptolens.detect.candles import Candles
from cryptolens.market.aggregate import affected_buckets, aggregate_all, reaggregation_ranges


@dataclass(frozen=True, slots=True)
class StoreResult:
    received: int
    changed: int
    aggregated: int


def _changed_open_times(
    connection: Connection, *, symbol_id: int, timeframe: str, candles: Candles
) -> npt.NDArray[np.int64]:
    """Open times of ``candles`` that are new or differ from what is stored."""
    times = np.asarray(candles.open_time, dtype=np.int64)
    if times.size == 0:
        return times
    stored = load_candles(
        connection,
        symbol_id=symbol_id,
        timeframe=timeframe,
        start_ms=int(times[0]),
        end_ms=int(times[-1]) + 1,
    )
    if len(stored) == 0:
        return times
    position = np.minimum(np.searchsorted(stored.open_time, times), len(stored) - 1)
    same = stored.open_time[position] == times
    for column in ("open", "high", "low", "close", "volume"):
        same &= getattr(stored, column)[position] == np.asarray(getattr(candles, column))
    changed: npt.NDArray[np.int64] = times[~same]
    return changed


def store_candles(
    connection: Connection,
    *,
    symbol_id: int,
    base_timeframe: str,
    higher_timeframes: tuple[str, ...],
    candles: Candles,
    now_ms: int,
) -> StoreResult:
    """Upsert closed base candles and recompute the affected higher-timeframe buckets.

    A bucket is written once its period has ended at ``now_ms`` (exchange time): complete when
    every constituent is stored, else marked incomplete (a hole at the exchange). Runs in the
    caller's transaction.
    """
    previous_last = latest_open_time(connection, symbol_id=symbol_id, timeframe=base_timeframe)
    changed = _changed_open_times(
        connection, symbol_id=symbol_id, timeframe=base_timeframe, candles=candles
    )
    if changed.size:
        upsert_candles(connection, symbol_id=symbol_id, timeframe=base_timeframe, candles=candles)
    if not higher_timeframes:
        return StoreResult(len(candles.open_time), int(changed.size), 0)
    # The bucket holding the newest candle stored before this batch may have ended since
    # (even with no new constituent, when the exchange has a hole): rebuild it too.
    revised = changed if previous_last is None else np.append(changed, previous_last)
    aggregated = 0
    for start, end in reaggregation_ranges(revised, higher_timeframes):
        window = load_candles(
            connection, symbol_id=symbol_id, timeframe=base_timeframe, start_ms=start, end_ms=end
        )
        if len(window) == 0:
            continue
        built = aggregate_all(
            window, base_timeframe=base_timeframe, targets=higher_timeframes, now_ms=now_ms
        )
        for timeframe, window_buckets in built.items():
            # The window spans the largest timeframe's bucket; write only what changed.
            buckets = window_buckets.only(affected_buckets(revised, timeframe))
            if len(buckets):
                aggregated += upsert_candles(
                    connection,
                    symbol_id=symbol_id,
                    timeframe=timeframe,
                    candles=buckets,
                    complete=buckets.complete,
                )
    return StoreResult(len(candles.open_time), int(changed.size), aggregated)
