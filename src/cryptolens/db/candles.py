"""Bulk candle storage: dialect-specific upserts through the driver's executemany, and reads
straight into column arrays. Never row-by-row ORM objects: candles come in hundreds of thousands.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, bindparam, delete, func, select

from cryptolens.db.models import Candle
from cryptolens.detect.candles import CandleColumns, Candles
from cryptolens.domain.timeframes import timeframe_ms

#: Rows per executemany call: large enough to amortise round trips, small enough for memory.
UPSERT_CHUNK = 20_000

_COLUMNS = (
    "symbol_id",
    "timeframe",
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "complete",
)
_UPDATED = ("open", "high", "low", "close", "volume", "complete")


#: Columns read back, in the order ``_stored`` expects.
_READ = (
    Candle.open_time,
    Candle.open,
    Candle.high,
    Candle.low,
    Candle.close,
    Candle.volume,
    Candle.complete,
)


@dataclass(frozen=True, slots=True, eq=False)
class StoredCandles:
    """Candles read back with each row's ``complete`` flag (False: a bucket with a hole)."""

    candles: Candles
    complete: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.candles)


def _upsert_sql(dialect: str) -> str:
    columns = ", ".join(_COLUMNS)
    if dialect in ("mysql", "mariadb"):
        marks = ", ".join(["%s"] * len(_COLUMNS))
        updates = ", ".join(f"{c} = VALUES({c})" for c in _UPDATED)
        return f"INSERT INTO candles ({columns}) VALUES ({marks}) ON DUPLICATE KEY UPDATE {updates}"
    mark = "?" if dialect == "sqlite" else "%s"
    marks = ", ".join([mark] * len(_COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATED)
    return (
        f"INSERT INTO candles ({columns}) VALUES ({marks}) "
        f"ON CONFLICT (symbol_id, timeframe, open_time) DO UPDATE SET {updates}"
    )


def _rows(
    symbol_id: int,
    timeframe: str,
    candles: CandleColumns,
    complete: Sequence[bool] | npt.NDArray[np.bool_] | None,
) -> Iterator[tuple[Any, ...]]:
    flags: Any = repeat(True) if complete is None else np.asarray(complete, dtype=bool).tolist()
    return zip(
        repeat(symbol_id),
        repeat(timeframe),
        np.asarray(candles.open_time, dtype=np.int64).tolist(),
        np.asarray(candles.open, dtype=np.float64).tolist(),
        np.asarray(candles.high, dtype=np.float64).tolist(),
        np.asarray(candles.low, dtype=np.float64).tolist(),
        np.asarray(candles.close, dtype=np.float64).tolist(),
        np.asarray(candles.volume, dtype=np.float64).tolist(),
        flags,
        strict=False,
    )


def upsert_candles(
    connection: Connection,
    *,
    symbol_id: int,
    timeframe: str,
    candles: CandleColumns,
    complete: Sequence[bool] | npt.NDArray[np.bool_] | None = None,
) -> int:
    """Insert or overwrite candles by (symbol, timeframe, open time); return how many were sent.

    Runs in the caller's transaction; a revised candle replaces the stored one.
    """
    rows = _rows(symbol_id, timeframe, candles, complete)
    if connection.dialect.name == "postgresql":
        return _copy_upsert_postgresql(connection, rows)
    sql = _upsert_sql(connection.dialect.name)
    sent = 0
    while chunk := list(islice(rows, UPSERT_CHUNK)):
        connection.exec_driver_sql(sql, chunk)
        sent += len(chunk)
    return sent


def _copy_upsert_postgresql(connection: Connection, rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY into a transaction-scoped staging table, then one INSERT … ON CONFLICT: an order of
    magnitude faster than executemany on PostgreSQL."""
    columns = ", ".join(_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATED)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS candles_stage "
            "(LIKE candles INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        sent = 0
        with cursor.copy(f"COPY candles_stage ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                sent += 1
        cursor.execute(
            f"INSERT INTO candles ({columns}) SELECT {columns} FROM candles_stage "
            "ORDER BY symbol_id, timeframe, open_time "
            f"ON CONFLICT (symbol_id, timeframe, open_time) DO UPDATE SET {updates}"
        )
        cursor.execute("TRUNCATE candles_stage")
    finally:
        cursor.close()
    return sent


def load_candles(
    connection: Connection,
    *,
    symbol_id: int,
    timeframe: str,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int | None = None,
    newest: bool = False,
) -> Candles:
    """Candles with ``start_ms <= open_time < end_ms``, ascending; ``newest`` keeps the last
    ``limit`` instead of the first."""
    return load_stored_candles(
        connection,
        symbol_id=symbol_id,
        timeframe=timeframe,
        start_ms=start_ms,
        end_ms=end_ms,
        limit=limit,
        newest=newest,
    ).candles


def load_stored_candles(
    connection: Connection,
    *,
    symbol_id: int,
    timeframe: str,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int | None = None,
    newest: bool = False,
) -> StoredCandles:
    """``load_candles`` plus each row's ``complete`` flag (for audits of stored aggregates)."""
    conditions = [Candle.symbol_id == symbol_id, Candle.timeframe == timeframe]
    if start_ms is not None:
        conditions.append(Candle.open_time >= start_ms)
    if end_ms is not None:
        conditions.append(Candle.open_time < end_ms)
    order = Candle.open_time.desc() if newest else Candle.open_time.asc()
    query = select(*_READ).where(and_(*conditions)).order_by(order)
    if limit is not None:
        query = query.limit(limit)
    rows = list(connection.execute(query).all())
    if newest:
        rows.reverse()
    return _stored(rows)


def _stored(rows: Sequence[Any]) -> StoredCandles:
    if not rows:
        return StoredCandles(Candles.empty(), np.empty(0, dtype=bool))
    table = np.array([row[:6] for row in rows], dtype=np.float64)
    # Stored candles were validated on their way in (ingestion, aggregation), so they are
    # wrapped as they are: an audit must be able to read even a row damaged since.
    candles = Candles(
        open_time=np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)),
        open=table[:, 1].copy(),
        high=table[:, 2].copy(),
        low=table[:, 3].copy(),
        close=table[:, 4].copy(),
        volume=table[:, 5].copy(),
    )
    complete = np.fromiter((bool(row[6]) for row in rows), dtype=bool, count=len(rows))
    return StoredCandles(candles, complete)


def no_candles() -> Candles:
    """An empty result."""
    return Candles.empty()


# Built once: the scanner runs this for every symbol and timeframe every minute.
_AFTER = (
    select(*_READ)
    .where(
        Candle.symbol_id == bindparam("symbol_id"),
        Candle.timeframe == bindparam("timeframe"),
        Candle.open_time > bindparam("after"),
    )
    .order_by(Candle.open_time)
)


def load_candles_after(
    connection: Connection, *, symbol_id: int, timeframe: str, after: int | None
) -> Candles:
    """Candles opening after ``after`` (all of them if None), ascending."""
    if after is None:
        return load_candles(connection, symbol_id=symbol_id, timeframe=timeframe)
    rows = connection.execute(
        _AFTER, {"symbol_id": symbol_id, "timeframe": timeframe, "after": after}
    ).all()
    return _stored(rows).candles


def latest_open_times(
    connection: Connection, *, symbol_ids: Sequence[int], timeframe: str
) -> dict[int, int]:
    """Open time of the newest stored candle per symbol (symbols with none are absent), in one
    query."""
    if not symbol_ids:
        return {}
    rows = connection.execute(
        select(Candle.symbol_id, func.max(Candle.open_time))
        .where(Candle.symbol_id.in_(symbol_ids), Candle.timeframe == timeframe)
        .group_by(Candle.symbol_id)
    ).all()
    return {int(symbol_id): int(last) for symbol_id, last in rows}


def latest_open_time(connection: Connection, *, symbol_id: int, timeframe: str) -> int | None:
    """Open time of the newest stored candle, or None."""
    return connection.execute(
        select(func.max(Candle.open_time)).where(
            Candle.symbol_id == symbol_id, Candle.timeframe == timeframe
        )
    ).scalar_one_or_none()


def stored_open_times(
    connection: Connection, *, symbol_id: int, timeframe: str, start_ms: int, end_ms: int
) -> npt.NDArray[np.int64]:
    rows = connection.execute(
        select(Candle.open_time)
        .where(
            Candle.symbol_id == symbol_id,
            Candle.timeframe == timeframe,
            Candle.open_time >= start_ms,
            Candle.open_time < end_ms,
        )
        .order_by(Candle.open_time)
    ).scalars()
    return np.fromiter(rows, dtype=np.int64)


def find_gaps(
    connection: Connection, *, symbol_id: int, timeframe: str, start_ms: int, end_ms: int
) -> list[tuple[int, int]]:
    """Missing ``[from, to)`` open-time ranges of ``timeframe`` candles in ``[start, end)``."""
    step = timeframe_ms(timeframe)
    first = start_ms + (-start_ms) % step  # first aligned open time at or after start
    if first >= end_ms:
        return []
    after_last = first + -(-(end_ms - first) // step) * step  # first aligned time at/after end
    times = stored_open_times(
        connection, symbol_id=symbol_id, timeframe=timeframe, start_ms=first, end_ms=end_ms
    )
    bounds = np.concatenate(([first - step], times, [after_last]))
    return [
        (int(bounds[i]) + step, int(bounds[i + 1])) for i in np.flatnonzero(np.diff(bounds) > step)
    ]


def delete_candles(connection: Connection, *, symbol_id: int, timeframe: str | None = None) -> int:
    query = delete(Candle).where(Candle.symbol_id == symbol_id)
    if timeframe is not None:
        query = query.where(Candle.timeframe == timeframe)
    return connection.execute(query).rowcount
