"""What the streaming gateway reads from the database: sequenced events after a position,
with the symbol names and zone rows needed to show them (one query each per batch)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from cryptolens.db.events import EventRow, load_events, undispatched_mark
from cryptolens.db.models import Symbol
from cryptolens.db.patterns import zones_by_id
from cryptolens.domain.events import Event, EventType
from cryptolens.services.ops.event_dispatch import sequence_pending


@dataclass(frozen=True, slots=True)
class Feed:
    """A batch of events and what showing them needs: symbol names by id, and the current
    row of every zone a ``zone_changed`` event names (by pattern id)."""

    events: list[Event]
    symbols: dict[int, str] = field(default_factory=dict)
    zones: dict[int, dict[str, Any]] = field(default_factory=dict)


def last_position(engine: Engine) -> int:
    """The highest position handed out so far (0: none)."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.max(EventRow.position))).scalar() or 0)


def sequence_waiting(engine: Engine) -> int:
    """Give positions to committed events waiting for them (as the dispatcher would), so the
    stream does not wait for its next tick; a concurrent dispatcher wins harmlessly."""
    with engine.connect() as connection:
        if undispatched_mark(connection) is None:
            return 0
    return sequence_pending(engine)


def _zone_rows(engine: Engine, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    with engine.connect() as connection:
        return zones_by_id(connection, ids=ids)


def _symbol_names(engine: Engine, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(select(Symbol.id, Symbol.symbol).where(Symbol.id.in_(wanted)))
        return {int(i): str(s) for i, s in rows}


def load_feed(
    engine: Engine,
    *,
    after: int,
    limit: int = 500,
    since: datetime | None = None,
    known_symbols: dict[int, str] | None = None,
) -> Feed:
    """Sequenced events after position ``after`` (recorded at ``since`` or later, when given),
    with their symbols (``known_symbols`` spares the lookup of names already known)."""
    with engine.connect() as connection:
        events = load_events(connection, after=after, limit=limit)
    if since is not None:
        events = [e for e in events if e.created_at >= since]
    known = known_symbols or {}
    missing = {e.symbol_id for e in events if e.symbol_id is not None} - set(known)
    symbols = {**known, **_symbol_names(engine, missing)}
    changed = [
        int(e.payload["pattern_id"])
        for e in events
        if e.type is EventType.ZONE_CHANGED and "pattern_id" in e.payload
    ]
    return Feed(events, symbols, _zone_rows(engine, changed))
