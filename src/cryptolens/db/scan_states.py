"""Per-timeframe scan progress: how far the scanner has read, and the detector state there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from cryptolens.clock import utcnow
from cryptolens.db.models import ScanState


@dataclass(frozen=True, slots=True)
class ScanProgress:
    timeframe: str
    scanned_through: int | None
    detector_state: dict[str, Any] | None


_STATES = select(ScanState.timeframe, ScanState.scanned_through, ScanState.detector_state).where(
    ScanState.symbol_id == bindparam("symbol_id")
)


def load_scan_states(connection: Connection, *, symbol_id: int) -> dict[str, ScanProgress]:
    rows = connection.execute(_STATES, {"symbol_id": symbol_id}).all()
    return {tf: ScanProgress(tf, through, state) for tf, through, state in rows}


def advance_scan_state(
    connection: Connection,
    *,
    symbol_id: int,
    previous: ScanProgress | None,
    timeframe: str,
    scanned_through: int,
    detector_state: dict[str, Any],
) -> bool:
    """Move the progress forward only from where this scan started (compare-and-set).

    False means another scanner got there first: the caller must roll back.
    """
    if previous is None:
        found = connection.execute(
            select(ScanState.timeframe).where(
                ScanState.symbol_id == symbol_id, ScanState.timeframe == timeframe
            )
        ).first()
        if found is not None:
            return False
        connection.execute(
            insert(ScanState).values(
                symbol_id=symbol_id,
                timeframe=timeframe,
                scanned_through=scanned_through,
                detector_state=detector_state,
                updated_at=utcnow(),
            )
        )
        return True
    condition = (
        ScanState.scanned_through.is_(None)
        if previous.scanned_through is None
        else ScanState.scanned_through == previous.scanned_through
    )
    result = connection.execute(
        update(ScanState)
        .where(ScanState.symbol_id == symbol_id, ScanState.timeframe == timeframe, condition)
        .values(scanned_through=scanned_through, detector_state=detector_state, updated_at=utcnow())
    )
    return result.rowcount == 1
