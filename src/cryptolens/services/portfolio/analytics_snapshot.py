"""The stored snapshot of a portfolio's trade-derived analytics: read together with the
portfolio in one statement (and only when its revision is the portfolio's current one),
stored after a recomputation, refreshed off the request path by the
``refresh_portfolio_analytics`` job.

A snapshot is stored with the revision read *before* its figures were computed: a write
committed meanwhile has moved the revision on, so such a snapshot never matches again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

from sqlalchemy import Select, Table, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cryptolens.db.portfolio import Portfolio, PortfolioAnalyticsSnapshot
from cryptolens.db.upsert import upsert_rows
from cryptolens.domain.jobs import job
from cryptolens.services.ops.background import Background
from cryptolens.services.portfolio.analytics_codec import SnapshotFormatError, decode, encode
from cryptolens.services.portfolio.analytics_model import TradeAnalytics

log = logging.getLogger(__name__)

REFRESH_JOB = job("refresh_portfolio_analytics")
_KEY_PREFIX = "cryptolens:analytics-refresh:"
_SNAPSHOTS: Table = PortfolioAnalyticsSnapshot.__table__  # type: ignore[assignment]
_STORED = ("revision", "computed_at", "compute_ms", "payload")

#: What ``current`` reads: quote_currency, initial_balance, analytics_revision, payload.
Current: TypeAlias = Row[str, Decimal, int, str | None]


def current(portfolio_id: int) -> Select[str, Decimal, int, str | None]:
    """The portfolio's currency, initial balance and analytics revision, with the payload of
    its snapshot if that snapshot is of this revision (NULL otherwise): one statement."""
    snapshot = PortfolioAnalyticsSnapshot
    return (
        select(
            Portfolio.quote_currency,
            Portfolio.initial_balance,
            Portfolio.analytics_revision,
            snapshot.payload,
        )
        .outerjoin(
            snapshot,
            (snapshot.portfolio_id == Portfolio.id)
            & (snapshot.revision == Portfolio.analytics_revision),
        )
        .where(Portfolio.id == portfolio_id)
    )


def stored(row: Current) -> TradeAnalytics | None:
    """The snapshot ``current`` found, or None (none of this revision, or unreadable)."""
    if row.payload is None:
        return None
    try:
        return decode(row.payload)
    except SnapshotFormatError:
        log.warning("unreadable analytics snapshot; recomputing", exc_info=True)
        return None


def store(
    session: Session,
    *,
    portfolio_id: int,
    revision: int,
    found: TradeAnalytics,
    compute_ms: float,
    now: datetime,
) -> bool:
    """Insert or replace the portfolio's snapshot, in a savepoint of the caller's transaction
    (it is kept when the caller commits). False, logged, when it cannot be stored: the
    figures are still right, the next view computes them again."""
    try:
        row = {
            "portfolio_id": portfolio_id,
            "revision": revision,
            "computed_at": now,
            "compute_ms": compute_ms,
            "payload": encode(found),
        }
        with session.begin_nested():
            upsert_rows(
                session.connection(), _SNAPSHOTS, [row], key=("portfolio_id",), update=_STORED
            )
    except (SQLAlchemyError, ValueError):
        log.warning("analytics snapshot of portfolio %s not stored", portfolio_id, exc_info=True)
        return False
    return True


def refresh_key(portfolio_id: int) -> str:
    """The Redis key held while a refresh of ``portfolio_id`` waits in the queue."""
    return f"{_KEY_PREFIX}{portfolio_id}"


def queue_refresh(background: Background, portfolio_id: int) -> bool:
    """Enqueue the refresh job of ``portfolio_id`` unless one is already waiting; False
    without a queue (the next view of the page computes the figures)."""
    return background.enqueue_once(REFRESH_JOB, refresh_key(portfolio_id), portfolio_id)
