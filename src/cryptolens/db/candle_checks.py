"""Integrity queries over stored candles: per-timeframe extents, duplicate keys, misaligned open
times, and the targeted deletes a repair needs. Reads and writes run in the caller's
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import ColumnElement, Connection, case, delete, func, select

from cryptolens.db.models import Candle
from cryptolens.domain.timeframes import timeframe_ms

#: Keys per ``IN (...)`` delete: well under every driver's parameter limit.
DELETE_CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class TimeframeExtent:
    rows: int
    first_ms: int
    last_ms: int


def timeframe_extents(
    connection: Connection, *, symbol_id: int, timeframes: Sequence[str]
) -> dict[str, TimeframeExtent]:
    """Row count and first/last open time per timeframe that has rows, in one query."""
    rows = connection.execute(
        select(
            Candle.timeframe,
            func.count(),
            func.min(Candle.open_time),
            func.max(Candle.open_time),
        )
        .where(Candle.symbol_id == symbol_id, Candle.timeframe.in_(timeframes))
        .group_by(Candle.timeframe)
    ).all()
    return {str(tf): TimeframeExtent(int(n), int(lo), int(hi)) for tf, n, lo, hi in rows}


def duplicate_keys(
    connection: Connection, *, symbol_id: int, timeframes: Sequence[str]
) -> dict[str, int]:
    """Surplus rows sharing one (symbol, timeframe, open time) per timeframe (absent: none).

    The primary key forbids them; this checks the database keeps its promise.
    """
    groups = (
        select(Candle.timeframe, (func.count() - 1).label("surplus"))
        .where(Candle.symbol_id == symbol_id, Candle.timeframe.in_(timeframes))
        .group_by(Candle.timeframe, Candle.open_time)
        .having(func.count() > 1)
        .subquery()
    )
    rows = connection.execute(
        select(groups.c.timeframe, func.sum(groups.c.surplus)).group_by(groups.c.timeframe)
    ).all()
    return {str(tf): int(n) for tf, n in rows}


def _misaligned(timeframes: Sequence[str]) -> ColumnElement[bool]:
    step = case({tf: timeframe_ms(tf) for tf in timeframes}, value=Candle.timeframe)
    return Candle.open_time % step != 0


def misaligned_counts(
    connection: Connection, *, symbol_id: int, timeframes: Sequence[str]
) -> dict[str, int]:
    """Rows whose open time is not a multiple of their timeframe, per timeframe (absent: none)."""
    rows = connection.execute(
        select(Candle.timeframe, func.count())
        .where(
            Candle.symbol_id == symbol_id,
            Candle.timeframe.in_(timeframes),
            _misaligned(timeframes),
        )
        .group_by(Candle.timeframe)
    ).all()
    return {str(tf): int(n) for tf, n in rows}


def delete_misaligned(connection: Connection, *, symbol_id: int, timeframes: Sequence[str]) -> int:
    """Delete the rows :func:`misaligned_counts` counts; return how many went."""
    return connection.execute(
        delete(Candle).where(
            Candle.symbol_id == symbol_id,
            Candle.timeframe.in_(timeframes),
            _misaligned(timeframes),
        )
    ).rowcount


def next_open_time(
    connection: Connection, *, symbol_id: int, timeframe: str, from_ms: int
) -> int | None:
    """The first stored open time at or after ``from_ms``, or None (one index probe)."""
    return connection.execute(
        select(func.min(Candle.open_time)).where(
            Candle.symbol_id == symbol_id,
            Candle.timeframe == timeframe,
            Candle.open_time >= from_ms,
        )
    ).scalar_one_or_none()


def delete_open_times(
    connection: Connection, *, symbol_id: int, timeframe: str, open_times: Sequence[int]
) -> int:
    """Delete the listed candles of one timeframe; return how many went."""
    deleted = 0
    times = iter(open_times)
    while chunk := list(islice(times, DELETE_CHUNK)):
        deleted += connection.execute(
            delete(Candle).where(
                Candle.symbol_id == symbol_id,
                Candle.timeframe == timeframe,
                Candle.open_time.in_(chunk),
            )
        ).rowcount
    return deleted
