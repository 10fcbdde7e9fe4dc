"""The analytics revision of a portfolio: every write that changes what its analytics show
moves ``portfolios.analytics_revision`` in the same transaction, so a snapshot stored for an
older revision can never be served (``analytics_snapshot``).

Writers call ``touch`` before changing trades: it takes the portfolio row's write lock
first, so two writers of one portfolio queue on it instead of deadlocking on MariaDB (whose
foreign key checks hold a shared lock on the portfolio row that the later UPDATE could not
upgrade while the other writer holds one too).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sqlalchemy import update
from sqlalchemy.orm import Session

from cryptolens.db.portfolio import Portfolio
from cryptolens.db.transactions import on_commit

_REFRESH = "cryptolens.analytics_refresh"

#: Called with a portfolio id after a transaction that touched it commits.
Refresh = Callable[[int], object]


def refresh_after_commit(session: Session, refresh: Refresh) -> None:
    """From now on, ``refresh(portfolio_id)`` runs after each commit of ``session`` that
    touched the portfolio (an entry point with a job queue passes one that enqueues the
    ``refresh_portfolio_analytics`` job)."""
    session.info[_REFRESH] = refresh


def touch(session: Session, portfolio_id: int) -> None:
    """Move ``portfolio_id``'s analytics revision on, in the caller's transaction."""
    statement = (
        update(Portfolio)
        .where(Portfolio.id == portfolio_id)
        .values(analytics_revision=Portfolio.analytics_revision + 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(statement)
    refresh: Refresh | None = session.info.get(_REFRESH)
    if refresh is not None:
        on_commit(session, partial(refresh, portfolio_id))
