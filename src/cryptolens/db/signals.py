"""Stored signals: idempotent insert with their zones, open signals, outcome updates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from cryptolens.clock import utcnow
from cryptolens.db.models import Signal, SignalPattern
from cryptolens.db.upsert import upsert_rows
from cryptolens.domain.enums import SignalStatus

OPEN_STATUSES = (SignalStatus.PENDING.value, SignalStatus.TRIGGERED.value)
OUTCOME_COLUMNS = (
    "status",
    "outcome",
    "triggered_at",
    "closed_at",
    "targets_hit",
    "r_multiple",
    "tracked_through",
)


@dataclass(frozen=True, slots=True)
class OpenSignal:
    id: int
    direction: str
    entry: float
    stop: float
    target_1: float
    target_2: float
    target_3: float
    created_at: int
    expires_at: int | None
    status: str
    triggered_at: int | None
    targets_hit: int
    tracked_through: int | None


_LAST = (
    select(Signal.direction, func.max(Signal.created_at))
    .where(Signal.symbol_id == bindparam("symbol_id"))
    .group_by(Signal.direction)
)


def last_signal_times(connection: Connection, *, symbol_id: int) -> dict[str, int]:
    """Creation time of the latest signal per direction."""
    rows = connection.execute(_LAST, {"symbol_id": symbol_id}).all()
    return {direction: int(latest) for direction, latest in rows}


def insert_signals(
    connection: Connection,
    *,
    symbol_id: int,
    rows: Sequence[dict[str, Any]],
    pattern_ids: Sequence[Sequence[int]],
) -> list[int]:
    """Insert signals (a signal already stored is left as it is) and link their zones;
    returns the ids in the order of ``rows``."""
    if not rows:
        return []
    now = utcnow()
    payload = [{**row, "symbol_id": symbol_id, "recorded_at": now} for row in rows]
    upsert_rows(
        connection,
        Signal.__table__,  # type: ignore[arg-type]
        payload,
        key=("symbol_id", "direction", "created_at"),
        update=(),
    )
    stored = connection.execute(
        select(Signal.id, Signal.direction, Signal.created_at).where(
            Signal.symbol_id == symbol_id,
            Signal.created_at.in_(sorted({r["created_at"] for r in rows})),
        )
    ).all()
    ids = {(d, created): sid for sid, d, created in stored}
    signal_ids = [ids[(r["direction"], r["created_at"])] for r in rows]
    links = [
        {"signal_id": sid, "pattern_id": pid}
        for sid, pids in zip(signal_ids, pattern_ids, strict=True)
        for pid in pids
    ]
    upsert_rows(
        connection,
        SignalPattern.__table__,  # type: ignore[arg-type]
        links,
        key=("signal_id", "pattern_id"),
        update=(),
    )
    return signal_ids


_OPEN = (
    select(
        Signal.id,
        Signal.direction,
        Signal.entry,
        Signal.stop,
        Signal.target_1,
        Signal.target_2,
        Signal.target_3,
        Signal.created_at,
        Signal.expires_at,
        Signal.status,
        Signal.triggered_at,
        Signal.targets_hit,
        Signal.tracked_through,
    )
    .where(Signal.symbol_id == bindparam("symbol_id"), Signal.status.in_(OPEN_STATUSES))
    .order_by(Signal.created_at)
)


def load_open_signals(connection: Connection, *, symbol_id: int) -> list[OpenSignal]:
    rows = connection.execute(_OPEN, {"symbol_id": symbol_id}).all()
    return [OpenSignal(**row._mapping) for row in rows]


def update_outcomes(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Write tracked outcomes (each row: ``id`` and OUTCOME_COLUMNS)."""
    if not rows:
        return
    statement = (
        update(Signal)
        .where(Signal.id == bindparam("sid"))
        .values({c: bindparam(c) for c in OUTCOME_COLUMNS})
    )
    connection.execute(
        statement.execution_options(synchronize_session=False),
        [{"sid": r["id"], **{c: r[c] for c in OUTCOME_COLUMNS}} for r in rows],
    )
