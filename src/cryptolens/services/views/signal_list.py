"""Signals for the web: a filtered, paged list and one signal with the zones that formed it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from cryptolens.db.models import Pattern, Signal, SignalPattern, Symbol
from cryptolens.db.planner import big_table_first, unindexed
from cryptolens.domain.enums import Direction, SignalOutcome, SignalStatus
from cryptolens.domain.errors import NotFoundError
from cryptolens.services.market.clock import market_now
from cryptolens.services.views.keyset import Cursor, CursorPage, after, keyset_page
from cryptolens.services.views.listing import (
    Page,
    PageRequest,
    parse_choice,
    query_args,
    symbol_arg,
    window,
)
from cryptolens.services.views.zone_list import PATTERN_COLUMNS, PatternRow


@dataclass(frozen=True, slots=True)
class SignalFilters:
    symbol: str | None = None
    direction: Direction | None = None
    status: SignalStatus | None = None
    outcome: SignalOutcome | None = None

    def as_args(self) -> dict[str, str]:
        return query_args(
            {
                "symbol": self.symbol,
                "direction": self.direction,
                "status": self.status,
                "outcome": self.outcome,
            }
        )


@dataclass(frozen=True, slots=True)
class SignalRow:
    id: int
    symbol: str
    direction: str
    confluence: int
    score: float
    timeframes: str
    entry: float
    stop: float
    target_1: float
    target_2: float
    target_3: float
    risk_reward: float
    status: str
    outcome: str | None
    r_multiple: float | None
    created_at: int
    triggered_at: int | None
    closed_at: int | None
    targets_hit: int


@dataclass(frozen=True, slots=True)
class SignalDetail:
    signal: SignalRow
    zones: tuple[PatternRow, ...]
    market_now: int | None
    #: Signals newer than this one, counted up to the cap asked for (None: not counted).
    newer: int | None = None


SIGNAL_COLUMNS = (
    Signal.id,
    Symbol.symbol,
    Signal.direction,
    Signal.confluence,
    Signal.score,
    Signal.timeframes,
    Signal.entry,
    Signal.stop,
    Signal.target_1,
    Signal.target_2,
    Signal.target_3,
    Signal.risk_reward,
    Signal.status,
    Signal.outcome,
    Signal.r_multiple,
    Signal.created_at,
    Signal.triggered_at,
    Signal.closed_at,
    Signal.targets_hit,
)


def parse_signal_filters(args: Mapping[str, str]) -> SignalFilters:
    """Filters from query arguments ``symbol, direction, status, outcome``."""
    return SignalFilters(
        symbol=symbol_arg(args),
        direction=parse_choice(args, "direction", Direction),
        status=parse_choice(args, "status", SignalStatus),
        outcome=parse_choice(args, "outcome", SignalOutcome),
    )


def _conditions(filters: SignalFilters, exchange: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [unindexed(Symbol.exchange) == exchange]
    if filters.symbol is not None:
        # The symbol's id (a constant to the planner), so the (symbol_id, created_at) index
        # serves the filter and the newest-first order.
        symbol_id = select(Symbol.id).where(
            Symbol.exchange == exchange, Symbol.symbol == filters.symbol
        )
        conditions.append(Signal.symbol_id == symbol_id.scalar_subquery())
    if filters.direction is not None:
        conditions.append(Signal.direction == filters.direction.value)
    if filters.status is not None:
        conditions.append(Signal.status == filters.status.value)
    if filters.outcome is not None:
        conditions.append(Signal.outcome == filters.outcome.value)
    return conditions


def list_signals(
    session: Session,
    *,
    exchange: str,
    filters: SignalFilters,
    page: PageRequest,
    limit_total: int | None = None,
) -> Page[SignalRow]:
    """A page of signals, newest first, in one query; ``limit_total`` caps how many of the
    newest are visible."""
    offset, fetch = window(page, limit_total)
    if fetch == 0:
        return Page((), page.page, page.per_page, False, limit_total)
    rows = session.execute(
        big_table_first(select(*SIGNAL_COLUMNS))
        .join(Symbol, Symbol.id == Signal.symbol_id)
        .where(*_conditions(filters, exchange))
        .order_by(Signal.created_at.desc(), Signal.id.desc())
        .offset(offset)
        .limit(fetch)
    ).all()
    return Page(
        rows=tuple(SignalRow(*tuple(row)) for row in rows[: page.per_page]),
        page=page.page,
        per_page=page.per_page,
        has_next=len(rows) > page.per_page,
        limit_total=limit_total,
    )


def list_signals_after(
    session: Session,
    *,
    exchange: str,
    filters: SignalFilters,
    limit: int,
    cursor: Cursor | None,
    limit_total: int | None = None,
) -> CursorPage[SignalRow]:
    """Signals newest first after ``cursor`` (the API's paging), with ``list_signals``'s
    filters and plan cap."""
    query = (
        big_table_first(select(*SIGNAL_COLUMNS))
        .join(Symbol, Symbol.id == Signal.symbol_id)
        .where(*_conditions(filters, exchange), *after(cursor, Signal.created_at, Signal.id))
        .order_by(Signal.created_at.desc(), Signal.id.desc())
    )
    return keyset_page(
        session,
        query,  # type: ignore[arg-type]  # Select[Any]: the row shape is ``build``'s
        limit=limit,
        cursor=cursor,
        limit_total=limit_total,
        build=lambda row: SignalRow(*tuple(row)),
        key=lambda signal: (signal.created_at, signal.id),
    )


def count_newer_signals(session: Session, *, created_at: int, signal_id: int, cap: int) -> int:
    """How many signals come before this one newest first (the list's order), up to ``cap``."""
    newer = (
        select(Signal.id)
        .where(
            or_(
                Signal.created_at > created_at,
                and_(Signal.created_at == created_at, Signal.id > signal_id),
            )
        )
        .limit(cap)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(newer)) or 0)


def newest_signal_ids(limit_total: int) -> Select[int]:
    """The ids of the newest ``limit_total`` signals of all (the signals page's window)."""
    return select(Signal.id).order_by(Signal.created_at.desc(), Signal.id.desc()).limit(limit_total)


def signal_detail(
    session: Session, *, signal_id: int, exchange: str, count_newer_within: int | None = None
) -> SignalDetail:
    """One signal with its zones; with ``count_newer_within`` also how many signals are newer
    (counted up to that cap). Raises NotFoundError if there is no such signal."""
    row = session.execute(
        select(*SIGNAL_COLUMNS)
        .join(Symbol, Symbol.id == Signal.symbol_id)
        .where(Signal.id == signal_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"signal {signal_id} does not exist")
    now = market_now(session, exchange=exchange)
    zones = session.execute(
        select(*PATTERN_COLUMNS)
        .join(SignalPattern, SignalPattern.pattern_id == Pattern.id)
        .join(Symbol, Symbol.id == Pattern.symbol_id)
        .where(SignalPattern.signal_id == signal_id)
        .order_by(Pattern.formed_at, Pattern.id)
    ).all()
    return SignalDetail(
        signal=SignalRow(*tuple(row)),
        zones=tuple(
            PatternRow(*tuple(zone), age_ms=None if now is None else now - zone.formed_at)  # type: ignore[misc]
            for zone in zones
        ),
        market_now=now,
        newer=None
        if count_newer_within is None
        else count_newer_signals(
            session, created_at=row.created_at, signal_id=signal_id, cap=count_newer_within
        ),
    )
