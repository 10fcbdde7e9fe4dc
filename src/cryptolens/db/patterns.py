"""Stored zones: bulk insert-or-update by identity, open zones of a symbol, stale expiry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from cryptolens.clock import utcnow
from cryptolens.db.models import Pattern
from cryptolens.db.upsert import upsert_rows
from cryptolens.domain.enums import PatternStatus
from cryptolens.domain.timeframes import timeframe_ms

OPEN_STATUSES = (PatternStatus.ACTIVE.value, PatternStatus.TOUCHED.value)
IDENTITY = ("symbol_id", "timeframe", "pattern_type", "direction", "formed_at")
#: Columns the lifecycle changes.
LIFECYCLE = (
    "status",
    "fill_fraction",
    "extreme",
    "touched_at",
    "filled_at",
    "invalidated_at",
    "expired_at",
)

#: (timeframe, pattern_type, direction, formed_at): a zone's identity within its symbol.
PatternKey = tuple[str, str, str, int]


@dataclass(frozen=True, slots=True)
class OpenPattern:
    id: int
    timeframe: str
    pattern_type: str
    direction: str
    zone_low: float
    zone_high: float
    formed_at: int
    expires_at: int
    strength: float
    touched_at: int | None
    extreme: float | None
    quality_probability: float | None = None

    @property
    def key(self) -> PatternKey:
        return (self.timeframe, self.pattern_type, self.direction, self.formed_at)


_OPEN = (
    select(
        Pattern.id,
        Pattern.timeframe,
        Pattern.pattern_type,
        Pattern.direction,
        Pattern.zone_low,
        Pattern.zone_high,
        Pattern.formed_at,
        Pattern.expires_at,
        Pattern.strength,
        Pattern.touched_at,
        Pattern.extreme,
        Pattern.quality_probability,
    )
    .where(Pattern.symbol_id == bindparam("symbol_id"), Pattern.status.in_(OPEN_STATUSES))
    .order_by(Pattern.formed_at, Pattern.id)
)


def load_open_patterns(connection: Connection, *, symbol_id: int) -> list[OpenPattern]:
    """Zones of a symbol that are neither filled, invalidated nor expired."""
    rows = connection.execute(_OPEN, {"symbol_id": symbol_id}).all()
    return [OpenPattern(*row) for row in rows]


def upsert_patterns(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new zones; a zone already stored (same identity) gets its lifecycle updated."""
    now = utcnow()
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault("updated_at", now)
    upsert_rows(
        connection,
        Pattern.__table__,  # type: ignore[arg-type]
        rows,
        key=IDENTITY,
        update=(*LIFECYCLE, "updated_at"),
    )


def update_lifecycles(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Write new lifecycle values of stored zones (each row: ``id`` and LIFECYCLE columns)."""
    if not rows:
        return
    now = utcnow()
    statement = (
        update(Pattern)
        .where(Pattern.id == bindparam("pid"))
        .values({c: bindparam(c) for c in LIFECYCLE} | {"updated_at": now})
    )
    connection.execute(
        statement.execution_options(synchronize_session=False),
        [{"pid": r["id"], **{c: r[c] for c in LIFECYCLE}} for r in rows],
    )


def pattern_ids(
    connection: Connection, *, symbol_id: int, keys: Sequence[PatternKey]
) -> dict[PatternKey, int]:
    """Ids of stored zones by identity."""
    if not keys:
        return {}
    wanted = set(keys)
    rows = connection.execute(
        select(
            Pattern.id,
            Pattern.timeframe,
            Pattern.pattern_type,
            Pattern.direction,
            Pattern.formed_at,
        ).where(
            Pattern.symbol_id == symbol_id,
            Pattern.formed_at.in_(sorted({k[3] for k in wanted})),
        )
    ).all()
    found = {(tf, kind, d, formed): pid for pid, tf, kind, d, formed in rows}
    return {k: found[k] for k in wanted if k in found}


@dataclass(frozen=True, slots=True)
class ExpiredPattern:
    id: int
    symbol_id: int
    timeframe: str
    expired_at: int


def expire_stale_patterns(connection: Connection, *, now_ms: int) -> list[ExpiredPattern]:
    """Expire open zones the scanner is no longer advancing (e.g. a deactivated symbol):
    those whose expiry passed more than one of their candles ago. Returns them."""
    expired: list[ExpiredPattern] = []
    timeframes = connection.execute(
        select(Pattern.timeframe).where(Pattern.status.in_(OPEN_STATUSES)).distinct()
    ).scalars()
    for tf in list(timeframes):
        stale = connection.execute(
            select(Pattern.id, Pattern.symbol_id, Pattern.expires_at).where(
                Pattern.timeframe == tf,
                Pattern.status.in_(OPEN_STATUSES),
                Pattern.expires_at + timeframe_ms(tf) <= now_ms,
            )
        ).all()
        if not stale:
            continue
        connection.execute(
            update(Pattern)
            .where(Pattern.id.in_([row.id for row in stale]), Pattern.status.in_(OPEN_STATUSES))
            .values(
                status=PatternStatus.EXPIRED.value,
                expired_at=Pattern.expires_at,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        expired += [ExpiredPattern(pid, sid, tf, int(at)) for pid, sid, at in stale]
    return expired


def zone_times(
    connection: Connection, *, symbol_id: int, timeframe: str, start_ms: int, end_ms: int
) -> list[tuple[int, str]]:
    """(formed_at, direction) of the stored zones of a symbol and timeframe formed in
    ``[start_ms, end_ms)`` (the identity index serves it)."""
    rows = connection.execute(
        select(Pattern.formed_at, Pattern.direction).where(
            Pattern.symbol_id == symbol_id,
            Pattern.timeframe == timeframe,
            Pattern.formed_at >= start_ms,
            Pattern.formed_at < end_ms,
        )
    ).all()
    return [(int(formed), str(direction)) for formed, direction in rows]


def zones_by_id(connection: Connection, *, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The stored rows (every column) of the zones ``ids``, by id; missing ones left out."""
    if not ids:
        return {}
    table = Pattern.__table__
    rows = connection.execute(select(table).where(table.c.id.in_(sorted(set(ids))))).mappings()
    return {int(row["id"]): dict(row) for row in rows}
