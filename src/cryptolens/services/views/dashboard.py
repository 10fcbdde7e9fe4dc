"""What the dashboard shows besides the (cached) pattern matrix: data freshness against the
market clock and the latest signals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cryptolens.services.views.listing import PageRequest
from cryptolens.services.views.matrix import Freshness, data_freshness
from cryptolens.services.views.signal_list import SignalFilters, SignalRow, list_signals

LATEST_SIGNALS = 10


@dataclass(frozen=True, slots=True)
class DashboardSummary:
    freshness: Freshness
    latest_signals: tuple[SignalRow, ...]


def dashboard_summary(
    session: Session,
    *,
    exchange: str,
    timeframes: Sequence[str],
    latest: int = LATEST_SIGNALS,
    limit_total: int | None = None,
) -> DashboardSummary:
    """Freshness of every active series and the newest signals, in three queries."""
    signals = list_signals(
        session,
        exchange=exchange,
        filters=SignalFilters(),
        page=PageRequest(page=1, per_page=latest),
        limit_total=limit_total,
    )
    return DashboardSummary(
        freshness=data_freshness(session, exchange=exchange, timeframes=timeframes),
        latest_signals=signals.rows,
    )
