"""Transaction boundaries: one unit of work per use case, actions run once it commits, and
guarded one-time updates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import CursorResult, Delete, Update, event
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


_ON_COMMIT = "cryptolens.on_commit"


def on_commit(session: Session, action: Callable[[], object]) -> None:
    """Run ``action`` after ``session``'s transaction commits; forget it on rollback."""
    actions: list[Callable[[], object]] | None = session.info.get(_ON_COMMIT)
    if actions is None:
        actions = session.info[_ON_COMMIT] = []
        event.listen(session, "after_commit", _run_actions)
        event.listen(session, "after_rollback", _drop_actions)
    actions.append(action)


def _run_actions(session: Session) -> None:
    actions = session.info.get(_ON_COMMIT, [])
    pending, actions[:] = list(actions), []
    for action in pending:
        action()


def _drop_actions(session: Session) -> None:
    session.info.get(_ON_COMMIT, []).clear()


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
