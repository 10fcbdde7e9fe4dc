"""The events outbox: recorded domain events, their dispatch order, per-consumer cursors.

Ids come from an auto-increment, so on PostgreSQL and MariaDB a transaction that commits
later can hold a lower id than one already visible: a consumer reading "id > last seen" would
skip it. So events are read by ``position`` instead, which the dispatcher gives out only to
events already committed, in one transaction, after the highest position given so far: an
event committed late simply gets a later position. The unique index on ``position`` makes a
second, concurrent sequencer fail instead of handing out a position twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    Index,
    Integer,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from cryptolens.clock import utcnow
from cryptolens.db.base import Base, UTCDateTime
from cryptolens.domain.events import Event, EventType, NewEvent

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class EventRow(Base):
    """A domain event, written in the same transaction as the change it describes."""

    __tablename__ = "events"
    # AUTOINCREMENT: plain SQLite would reuse the ids of events clean-up deleted, and a
    # consumer keying its effects by event id would take a new event for one it handled.
    __table_args__ = (
        Index("ux_events_position", "position", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    #: Dispatch order, given once the event is committed (None until then).
    position: Mapped[int | None] = mapped_column(BigInteger, default=None)
    type: Mapped[str] = mapped_column(String(32))
    #: No foreign key: the log outlives what it describes, and inserts stay cheap.
    symbol_id: Mapped[int | None] = mapped_column(Integer, default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EventCursor(Base):
    """How far one consumer got: the last position it handled."""

    __tablename__ = "event_cursors"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def record_events(connection: Connection, events: Sequence[NewEvent]) -> None:
    """Store ``events`` in the caller's transaction (one bulk insert)."""
    if not events:
        return
    now = utcnow()
    connection.execute(
        insert(EventRow),
        [
            {
                "type": e.type.value,
                "symbol_id": e.symbol_id,
                "payload": dict(e.payload),
                "created_at": now,
            }
            for e in events
        ],
    )


class SequencingConflict(Exception):
    """Another dispatcher sequenced the same events first; this attempt is rolled back."""


def sequence_events(connection: Connection, *, limit: int = 5000) -> int:
    """Give positions to committed events that have none, in id order; returns how many.
    Raises SequencingConflict when a concurrent sequencer took some of them."""
    ids = (
        connection.execute(
            select(EventRow.id)
            .where(EventRow.position.is_(None))
            .order_by(EventRow.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    if not ids:
        return 0
    # Cursors count too: once clean-up has deleted every handled event, positions must still
    # go on from where the consumers are, or new events would sit behind their cursors.
    top = max(
        connection.execute(select(func.max(EventRow.position))).scalar() or 0,
        connection.execute(select(func.max(EventCursor.last_position))).scalar() or 0,
    )
    connection.execute(
        update(EventRow)
        .where(EventRow.id == bindparam("eid"), EventRow.position.is_(None))
        .values(position=bindparam("pos"))
        .execution_options(synchronize_session=False),
        [{"eid": eid, "pos": top + n} for n, eid in enumerate(ids, 1)],
    )
    given = connection.execute(
        select(func.count()).where(EventRow.position > top, EventRow.position <= top + len(ids))
    ).scalar()
    if given != len(ids):
        raise SequencingConflict
    return len(ids)


def undispatched_mark(connection: Connection) -> int | None:
    """The highest id among events not yet sequenced (None: none waiting); one index range
    read, cheap enough to ask every second."""
    found = connection.execute(
        select(func.max(EventRow.id)).where(EventRow.position.is_(None))
    ).scalar_one_or_none()
    return int(found) if found is not None else None


def load_events(connection: Connection, *, after: int, limit: int) -> list[Event]:
    """Sequenced events after position ``after``, in position order."""
    rows = connection.execute(
        select(
            EventRow.position,
            EventRow.id,
            EventRow.type,
            EventRow.symbol_id,
            EventRow.payload,
            EventRow.created_at,
        )
        .where(EventRow.position > after)
        .order_by(EventRow.position)
        .limit(limit)
    ).all()
    return [Event(int(p), i, EventType(t), s, pl, c) for p, i, t, s, pl, c in rows]


def cursor_position(connection: Connection, *, consumer: str) -> int:
    """The last position ``consumer`` handled (0 for a new consumer, whose row is created)."""
    found = connection.execute(
        select(EventCursor.last_position).where(EventCursor.consumer == consumer)
    ).scalar()
    if found is not None:
        return int(found)
    connection.execute(
        insert(EventCursor).values(consumer=consumer, last_position=0, updated_at=utcnow())
    )
    return 0


def advance_cursor(connection: Connection, *, consumer: str, position: int) -> None:
    """Move ``consumer``'s cursor forward to ``position`` (never backwards)."""
    connection.execute(
        update(EventCursor)
        .where(EventCursor.consumer == consumer, EventCursor.last_position < position)
        .values(last_position=position, updated_at=utcnow())
    )


def delete_dispatched(connection: Connection, *, before: datetime) -> int:
    """Drop events every known consumer has handled and that are older than ``before``."""
    slowest = connection.execute(select(func.min(EventCursor.last_position))).scalar()
    if slowest is None:
        return 0
    result = connection.execute(
        delete(EventRow).where(EventRow.position <= slowest, EventRow.created_at < before)
    )
    return int(result.rowcount)
