"""Transaction boundaries: one unit of work per use case, and guarded one-time updates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import CursorResult, Delete, Update
from sqlalchemy.orm import Session


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit when the block finishes; roll back (and re-raise) when it raises."""
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


def changed_rows(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE (or DELETE) in the session's transaction and count the rows it changed."""
    # Loaded objects are not refreshed: callers of a guarded update re-read what they need.
    result = session.execute(statement.execution_options(synchronize_session=False))
    # Session.execute is typed for any statement; UPDATE and DELETE yield a CursorResult.
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(statement).__name__} returned {type(result).__name__}")
    return result.rowcount


def claim_once(session: Session, statement: Update) -> bool:
    """Compare-and-set: ``statement``'s WHERE names the state it expects (``used_at IS NULL``,
    ``status = 'pending'``); True when this caller changed the row, False when another got
    there first."""
    return changed_rows(session, statement) == 1
