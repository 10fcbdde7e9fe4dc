"""The zones list: filtered, newest first, paged without counting the whole table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from cryptolens.db.models import Pattern, Symbol
from cryptolens.db.planner import big_table_first, unindexed
from cryptolens.domain.enums import Direction, PatternStatus, PatternType
from cryptolens.services.market.clock import market_now
from cryptolens.services.views.keyset import Cursor, CursorPage, after, keyset_page
from cryptolens.services.views.listing import (
    Page,
    PageRequest,
    parse_choice,
    parse_page,
    parse_timeframe,
    query_args,
    symbol_arg,
    window,
)

#: ``status=open`` selects the zones still in play: active and touched.
OPEN_STATUSES = (PatternStatus.ACTIVE.value, PatternStatus.TOUCHED.value)


@dataclass(frozen=True, slots=True)
class PatternFilters:
    symbol: str | None = None
    timeframe: str | None = None
    pattern_type: PatternType | None = None
    direction: Direction | None = None
    #: A PatternStatus value, or "open" for active and touched together.
    status: str | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments (for links that keep them)."""
        return query_args(
            {
                "symbol": self.symbol,
                "timeframe": self.timeframe,
                "type": self.pattern_type,
                "direction": self.direction,
                "status": self.status,
            }
        )


@dataclass(frozen=True, slots=True)
class PatternRow:
    id: int
    symbol: str
    timeframe: str
    pattern_type: str
    direction: str
    zone_low: float
    zone_high: float
    strength: float
    fill_fraction: float
    status: str
    formed_at: int
    #: The zone-quality model's probability of holding at detection (None: no model then).
    quality_probability: float | None
    quality_model_version: str | None
    #: Milliseconds since formation on the market clock (None before the first ingestion).
    age_ms: int | None


#: The columns behind a PatternRow (all but the age), for every query that lists zones.
PATTERN_COLUMNS = (
    Pattern.id,
    Symbol.symbol,
    Pattern.timeframe,
    Pattern.pattern_type,
    Pattern.direction,
    Pattern.zone_low,
    Pattern.zone_high,
    Pattern.strength,
    Pattern.fill_fraction,
    Pattern.status,
    Pattern.formed_at,
    Pattern.quality_probability,
    Pattern.quality_model_version,
)


def parse_pattern_filters(args: Mapping[str, str]) -> PatternFilters:
    """Filters from query arguments ``symbol, timeframe, type, direction, status``."""
    status = (args.get("status") or "").strip().lower() or None
    if status not in (None, "open"):
        status = str(parse_choice(args, "status", PatternStatus))
    return PatternFilters(
        symbol=symbol_arg(args),
        timeframe=parse_timeframe(args),
        pattern_type=parse_choice(args, "type", PatternType),
        direction=parse_choice(args, "direction", Direction),
        status=status,
    )


def _conditions(filters: PatternFilters, exchange: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [unindexed(Symbol.exchange) == exchange]
    if filters.symbol is not None:
        # Compared as the symbol's id (a scalar subquery, a constant to the planner), so the
        # (symbol_id, timeframe, formed_at) index serves the filter and the newest-first order.
        symbol_id = select(Symbol.id).where(
            Symbol.exchange == exchange, Symbol.symbol == filters.symbol
        )
        conditions.append(Pattern.symbol_id == symbol_id.scalar_subquery())
    if filters.timeframe is not None:
        conditions.append(Pattern.timeframe == filters.timeframe)
    if filters.pattern_type is not None:
        conditions.append(Pattern.pattern_type == filters.pattern_type.value)
    if filters.direction is not None:
        conditions.append(Pattern.direction == filters.direction.value)
    # The status is compared through an expression on purpose: an index on status would make
    # the database collect every zone of that status and sort them, while walking the
    # newest-first index and skipping other statuses stops after one page (open zones are the
    # newest ones; ended ones are most of the history).
    status = func.coalesce(Pattern.status, "")
    if filters.status == "open":
        conditions.append(status.in_(OPEN_STATUSES))
    elif filters.status is not None:
        conditions.append(status == filters.status)
    return conditions


def list_patterns(
    session: Session,
    *,
    exchange: str,
    filters: PatternFilters,
    page: PageRequest,
    limit_total: int | None = None,
) -> Page[PatternRow]:
    """A page of zones, newest first; ``limit_total`` caps how many of the newest are visible.

    Two queries whatever the volume: the market clock and one indexed page (one row more
    than the page to learn whether another follows)."""
    now = market_now(session, exchange=exchange)
    offset, fetch = window(page, limit_total)
    if fetch == 0:
        return Page((), page.page, page.per_page, False, limit_total)
    query = (
        big_table_first(select(*PATTERN_COLUMNS))
        .join(Symbol, Symbol.id == Pattern.symbol_id)
        .where(*_conditions(filters, exchange))
        .order_by(Pattern.formed_at.desc(), Pattern.id.desc())
        .offset(offset)
        .limit(fetch)
    )
    rows = session.execute(query).all()
    has_next = len(rows) > page.per_page
    return Page(
        rows=tuple(_zone_row(row, now) for row in rows[: page.per_page]),
        page=page.page,
        per_page=page.per_page,
        has_next=has_next,
        limit_total=limit_total,
    )


def _zone_row(row: Any, now: int | None) -> PatternRow:
    age = None if now is None else now - row.formed_at
    return PatternRow(*tuple(row), age_ms=age)  # type: ignore[misc]  # the columns, then age


def list_patterns_after(
    session: Session,
    *,
    exchange: str,
    filters: PatternFilters,
    limit: int,
    cursor: Cursor | None,
    limit_total: int | None = None,
) -> CursorPage[PatternRow]:
    """Zones newest first after ``cursor`` (the API's paging): the same filters and plan cap
    as ``list_patterns``, walking the newest-first index instead of skipping rows."""
    now = market_now(session, exchange=exchange)
    query = (
        big_table_first(select(*PATTERN_COLUMNS))
        .join(Symbol, Symbol.id == Pattern.symbol_id)
        .where(*_conditions(filters, exchange), *after(cursor, Pattern.formed_at, Pattern.id))
        .order_by(Pattern.formed_at.desc(), Pattern.id.desc())
    )
    return keyset_page(
        session,
        query,  # type: ignore[arg-type]  # Select[Any]: the row shape is ``build``'s
        limit=limit,
        cursor=cursor,
        limit_total=limit_total,
        build=lambda row: _zone_row(row, now),
        key=lambda zone: (zone.formed_at, zone.id),
    )


__all__ = [
    "OPEN_STATUSES",
    "PATTERN_COLUMNS",
    "PatternFilters",
    "PatternRow",
    "list_patterns",
    "list_patterns_after",
    "parse_page",
    "parse_pattern_filters",
]
