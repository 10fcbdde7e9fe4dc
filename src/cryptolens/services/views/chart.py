"""Chart data for one symbol: candles, the zones drawn over them and signal levels.

Every read is bounded: at most ``MAX_CANDLES`` candles, ``MAX_ZONES`` zones and
``MAX_SIGNALS`` signals per request; asking for more is refused with a message naming the
limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.candles import load_candles
from cryptolens.db.models import Pattern, Signal, Symbol
from cryptolens.domain.enums import SignalStatus
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.services.views.listing import parse_int, parse_timeframe, symbol_arg
from cryptolens.services.views.signal_list import (
    SIGNAL_COLUMNS,
    SignalRow,
    count_newer_signals,
    newest_signal_ids,
)

MAX_CANDLES = 5000
DEFAULT_CANDLES = 500
MAX_ZONES = 2000
MAX_SIGNALS = 50
#: A signal whose levels still matter: waiting for its entry, or entered and not yet closed.
LIVE_STATUSES = frozenset({SignalStatus.PENDING.value, SignalStatus.TRIGGERED.value})


@dataclass(frozen=True, slots=True)
class ChartQuery:
    exchange: str
    symbol: str
    timeframe: str
    limit: int
    #: Only what opens (candles) or forms (zones) in [start_ms, end_ms), epoch ms.
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ChartSignal:
    """The signal a chart page was opened for (``?signal=N``)."""

    signal: SignalRow
    #: False once it is closed, expired or unfilled: its levels are history, not orders.
    live: bool
    #: Signals newer than this one, counted up to the cap asked for (None: not counted).
    newer: int | None


def is_live(signal: SignalRow) -> bool:
    return signal.status in LIVE_STATUSES and signal.outcome is None


@dataclass(frozen=True, slots=True)
class ChartCandles:
    symbol: str
    timeframe: str
    open_time: tuple[int, ...]
    open: tuple[float, ...]
    high: tuple[float, ...]
    low: tuple[float, ...]
    close: tuple[float, ...]
    volume: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class ChartZone:
    id: int
    pattern_type: str
    direction: str
    zone_low: float
    zone_high: float
    #: Open time of the forming candle: where the rectangle starts.
    candle_time: int
    formed_at: int
    #: When the zone stopped being in play (filled, invalidated or expired), else None.
    ended_at: int | None
    status: str
    strength: float
    #: The zone-quality model's probability of holding (None: no model at detection).
    quality_probability: float | None = None


def _bounded(args: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    value = parse_int(args, name, default=default, minimum=-(2**63), maximum=2**63 - 1)
    if value > maximum:
        raise ValidationError(f"{name} must be at most {maximum} (got {value})")
    if value < 1:
        raise ValidationError(f"{name} must be between 1 and {maximum} (got {value})")
    return value


def parse_chart_query(
    args: Mapping[str, str], *, exchange: str, default_timeframe: str, maximum: int = MAX_CANDLES
) -> ChartQuery:
    """``symbol`` (required), ``timeframe``, ``limit`` (1..maximum), ``start`` and ``end``
    (epoch ms)."""
    symbol = symbol_arg(args)
    if symbol is None:
        raise ValidationError("symbol is required, e.g. symbol=BTC/USDT")
    start, end = (
        parse_int(args, name, default=-1, minimum=0, maximum=2**62) for name in ("start", "end")
    )
    return ChartQuery(
        exchange=exchange,
        symbol=symbol,
        timeframe=parse_timeframe(args) or default_timeframe,
        limit=_bounded(args, "limit", min(DEFAULT_CANDLES, maximum), maximum),
        start_ms=None if start < 0 else start,
        end_ms=None if end < 0 else end,
    )


def symbol_id_for(session: Session, *, exchange: str, symbol: str) -> int:
    """The id of ``symbol`` stored for ``exchange``; raises NotFoundError."""
    found = session.scalars(
        select(Symbol.id).where(Symbol.exchange == exchange, Symbol.symbol == symbol)
    ).first()
    if found is None:
        raise NotFoundError(f"symbol {symbol} is not stored for {exchange}")
    return found


def chart_candles(session: Session, *, query: ChartQuery) -> ChartCandles:
    """The newest ``query.limit`` candles (before ``end_ms``), oldest first."""
    symbol_id = symbol_id_for(session, exchange=query.exchange, symbol=query.symbol)
    stored = load_candles(
        session.connection(),
        symbol_id=symbol_id,
        timeframe=query.timeframe,
        start_ms=query.start_ms,
        end_ms=query.end_ms,
        limit=query.limit,
        newest=True,
    )
    return ChartCandles(
        symbol=query.symbol,
        timeframe=query.timeframe,
        open_time=tuple(stored.open_time.tolist()),
        open=tuple(stored.open.tolist()),
        high=tuple(stored.high.tolist()),
        low=tuple(stored.low.tolist()),
        close=tuple(stored.close.tolist()),
        volume=tuple(stored.volume.tolist()),
    )


def chart_zones(
    session: Session, *, query: ChartQuery, pattern_types: frozenset[str] | None = None
) -> list[ChartZone]:
    """The newest ``query.limit`` zones of the series formed in [start_ms, end_ms), oldest
    first; only zones of ``pattern_types`` when given."""
    symbol_id = symbol_id_for(session, exchange=query.exchange, symbol=query.symbol)
    conditions = [Pattern.symbol_id == symbol_id, Pattern.timeframe == query.timeframe]
    if pattern_types is not None:
        conditions.append(Pattern.pattern_type.in_(sorted(pattern_types)))
    if query.start_ms is not None:
        conditions.append(Pattern.formed_at >= query.start_ms)
    if query.end_ms is not None:
        conditions.append(Pattern.formed_at < query.end_ms)
    ended = func.coalesce(Pattern.filled_at, Pattern.invalidated_at, Pattern.expired_at)
    rows = session.execute(
        select(
            Pattern.id,
            Pattern.pattern_type,
            Pattern.direction,
            Pattern.zone_low,
            Pattern.zone_high,
            Pattern.candle_time,
            Pattern.formed_at,
            ended,
            Pattern.status,
            Pattern.strength,
            Pattern.quality_probability,
        )
        .where(*conditions)
        .order_by(Pattern.formed_at.desc(), Pattern.id.desc())
        .limit(query.limit)
    ).all()
    return [ChartZone(*tuple(row)) for row in reversed(rows)]


def chart_signals(
    session: Session, *, exchange: str, symbol: str, limit: int, limit_total: int | None = None
) -> list[SignalRow]:
    """The symbol's newest ``limit`` signals with their levels, newest first; with
    ``limit_total`` only those among the newest ``limit_total`` signals of all."""
    symbol_id = symbol_id_for(session, exchange=exchange, symbol=symbol)
    if limit_total == 0:
        return []
    conditions = [Signal.symbol_id == symbol_id]
    if limit_total is not None:
        window = newest_signal_ids(limit_total).subquery()
        conditions.append(Signal.id.in_(select(window.c.id)))
    rows = session.execute(
        select(*SIGNAL_COLUMNS)
        .join(Symbol, Symbol.id == Signal.symbol_id)
        .where(*conditions)
        .order_by(Signal.created_at.desc(), Signal.id.desc())
        .limit(limit)
    ).all()
    return [SignalRow(*tuple(row)) for row in rows]


def chart_signal(
    session: Session,
    *,
    exchange: str,
    symbol: str,
    signal_id: int,
    count_newer_within: int | None,
) -> ChartSignal:
    """One signal of ``symbol`` for its chart; with ``count_newer_within`` also how many
    signals are newer (up to that cap). Raises NotFoundError if ``symbol`` has no such signal."""
    symbol_id = symbol_id_for(session, exchange=exchange, symbol=symbol)
    row = session.execute(
        select(*SIGNAL_COLUMNS)
        .join(Symbol, Symbol.id == Signal.symbol_id)
        .where(Signal.id == signal_id, Signal.symbol_id == symbol_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"signal {signal_id} is not a {symbol} signal")
    found = SignalRow(*tuple(row))
    newer = (
        None
        if count_newer_within is None
        else count_newer_signals(
            session, created_at=found.created_at, signal_id=found.id, cap=count_newer_within
        )
    )
    return ChartSignal(signal=found, live=is_live(found), newer=newer)
