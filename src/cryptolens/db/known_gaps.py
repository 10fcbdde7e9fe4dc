"""The known-gaps registry: stretches of candles the exchange confirmed it does not have.

A hole in the stored candles is an alarm until the exchange has been asked and answered
without those candles; then it is recorded here, still reported, but no longer a problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from cryptolens.db.models import KnownGap

#: A half-open ``[start, end)`` range of open times, epoch ms.
Gap = tuple[int, int]


def record_known_gaps(
    connection: Connection,
    *,
    symbol_id: int,
    timeframe: str,
    gaps: Iterable[Gap],
    reason: str,
    now: datetime,
) -> int:
    """Record ``gaps`` as confirmed by the exchange (a gap starting where one is recorded
    replaces it); return how many were written."""
    rows = [
        {
            "symbol_id": symbol_id,
            "timeframe": timeframe,
            "start_ms": start,
            "end_ms": end,
            "confirmed_at": now,
            "reason": reason[:255],
        }
        for start, end in gaps
    ]
    if not rows:
        return 0
    connection.execute(
        delete(KnownGap).where(
            KnownGap.symbol_id == symbol_id,
            KnownGap.timeframe == timeframe,
            KnownGap.start_ms.in_([row["start_ms"] for row in rows]),
        )
    )
    connection.execute(insert(KnownGap), rows)
    return len(rows)


def load_known_gaps(connection: Connection, *, symbol_id: int, timeframe: str) -> list[Gap]:
    """The recorded gaps of one symbol and timeframe, oldest first."""
    query = (
        select(KnownGap.start_ms, KnownGap.end_ms)
        .where(KnownGap.symbol_id == symbol_id, KnownGap.timeframe == timeframe)
        .order_by(KnownGap.start_ms)
    )
    return [(int(start), int(end)) for start, end in connection.execute(query)]


def split_known(holes: Sequence[Gap], known: Sequence[Gap]) -> tuple[list[Gap], list[Gap]]:
    """``holes`` split into (those inside a known gap, the rest)."""
    inside: list[Gap] = []
    rest: list[Gap] = []
    for hole in holes:
        covered = any(start <= hole[0] and hole[1] <= end for start, end in known)
        (inside if covered else rest).append(hole)
    return inside, rest
