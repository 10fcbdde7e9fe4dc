"""The equity curve and the maximum drawdown in one linear pass over the closed trades'
(``closed_at``, realised P&L) in closing order, as ``analytics_queries.equity`` streams them.

``run`` is equity minus the initial balance (the cumulative P&L); ``peak`` its running
maximum, at least 0 (the initial balance is the first peak). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from cryptolens.domain.trades import canonical
from cryptolens.services.portfolio.analytics_queries import MAX_CURVE_POINTS
from cryptolens.services.portfolio.analytics_rollup import money

_SAMPLED = MAX_CURVE_POINTS - 3


@dataclass(frozen=True, slots=True)
class Point:
    """A closed trade's place on the curve: its 1-based position in closing order."""

    rn: int
    closed_at: datetime
    run: Decimal
    peak: Decimal


@dataclass(frozen=True, slots=True)
class EquityRows:
    #: At most ``MAX_CURVE_POINTS - 3``: every ``step``-th trade from the first, and the last.
    samples: list[Point]
    #: The deepest point below its peak (the earliest if tied; drawdown ``peak - run``, 0
    #: without a closed trade below a peak); None without closed trades.
    trough: Point | None
    #: When equity last stood at the trough's peak before it; None when that peak is the
    #: initial balance.
    peak_at: datetime | None
    #: The first closing after the trough back at or above its peak; None while below it.
    recovered_at: datetime | None


def _step(n: int) -> int:
    return max(1, -(-n // _SAMPLED))


def equity_rows(trades: Iterable[tuple[datetime, Any]]) -> EquityRows:
    """``trades``: (``closed_at``, realised P&L) in closing order (ties by id)."""
    points: list[Point] = []
    run = peak = Decimal(0)
    peak_at: datetime | None = None
    trough: Point | None = None
    trough_peak_at: datetime | None = None
    for rn, (closed_at, pnl) in enumerate(trades, start=1):
        run += money(pnl)
        if run > 0 and run >= peak:
            peak, peak_at = run, closed_at
        point = Point(rn, closed_at, run, peak)
        points.append(point)
        if trough is None or peak - run > trough.peak - trough.run:
            trough, trough_peak_at = point, peak_at
    return EquityRows(
        samples=_sampled(points),
        trough=None if trough is None else _canonical(trough),
        peak_at=trough_peak_at,
        recovered_at=_recovery(points, trough),
    )


def _canonical(point: Point) -> Point:
    # The P&L may arrive as the driver's Decimal (e.g. 12.5000000000): shown as stored.
    return Point(point.rn, point.closed_at, canonical(point.run), canonical(point.peak))


def _sampled(points: Sequence[Point]) -> list[Point]:
    step = _step(len(points))
    return [_canonical(p) for p in points if (p.rn - 1) % step == 0 or p.rn == len(points)]


def _recovery(points: Sequence[Point], trough: Point | None) -> datetime | None:
    if trough is None:
        return None
    for point in points[trough.rn :]:
        if point.run >= trough.peak:
            return point.closed_at
    return None
