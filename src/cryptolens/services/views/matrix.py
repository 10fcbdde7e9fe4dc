"""The pattern matrix (symbols by timeframes, open zones by type and direction) and the
freshness of every series against the market clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from cryptolens.db.models import Candle, Pattern, Symbol
from cryptolens.domain.enums import Direction, PatternType
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.services.market.clock import market_now
from cryptolens.services.views.zone_list import OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class MatrixCell:
    symbol: str
    timeframe: str
    #: Open zones per (pattern type, direction), types in PatternType order, bullish first.
    counts: tuple[tuple[str, str, int], ...] = ()

    @property
    def total(self) -> int:
        return sum(count for _, _, count in self.counts)

    def count(self, direction: str) -> int:
        return sum(n for _, d, n in self.counts if d == direction)


@dataclass(frozen=True, slots=True)
class PatternMatrix:
    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]
    cells: dict[tuple[str, str], MatrixCell] = field(default_factory=dict)

    def cell(self, symbol: str, timeframe: str) -> MatrixCell:
        return self.cells.get((symbol, timeframe)) or MatrixCell(symbol, timeframe)


_TYPE_ORDER = {t.value: i for i, t in enumerate(PatternType)}
_DIRECTION_ORDER = {d.value: i for i, d in enumerate(Direction)}


def pattern_matrix(
    session: Session,
    *,
    timeframes: Sequence[str],
    symbols: frozenset[str] | None = None,
    pattern_types: frozenset[str] | None = None,
) -> PatternMatrix:
    """Open zones of every active symbol on ``timeframes``, in two grouped queries; only the
    ``symbols`` and ``pattern_types`` given (None: all), i.e. what the viewer may see."""
    shown_symbols: list[ColumnElement[bool]] = [Symbol.active.is_(True)]
    if symbols is not None:
        shown_symbols.append(Symbol.symbol.in_(sorted(symbols)))
    zone_conditions = [Pattern.status.in_(OPEN_STATUSES), *shown_symbols]
    if pattern_types is not None:
        zone_conditions.append(Pattern.pattern_type.in_(sorted(pattern_types)))
    names = tuple(
        session.scalars(select(Symbol.symbol).where(*shown_symbols).order_by(Symbol.symbol))
    )
    rows = session.execute(
        select(
            Symbol.symbol,
            Pattern.timeframe,
            Pattern.pattern_type,
            Pattern.direction,
            func.count(),
        )
        .join(Symbol, Symbol.id == Pattern.symbol_id)
        .where(*zone_conditions)
        .group_by(Symbol.symbol, Pattern.timeframe, Pattern.pattern_type, Pattern.direction)
    ).all()
    grouped: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for symbol, timeframe, pattern_type, direction, count in rows:
        grouped.setdefault((symbol, timeframe), []).append((pattern_type, direction, int(count)))
    cells = {
        key: MatrixCell(
            *key,
            counts=tuple(
                sorted(
                    counts,
                    key=lambda c: (_TYPE_ORDER.get(c[0], 99), _DIRECTION_ORDER.get(c[1], 99)),
                )
            ),
        )
        for key, counts in grouped.items()
    }
    shown = tuple(dict.fromkeys((*timeframes, *sorted({tf for _, tf in cells}, key=timeframe_ms))))
    return PatternMatrix(symbols=names, timeframes=shown, cells=cells)


@dataclass(frozen=True, slots=True)
class SeriesFreshness:
    symbol: str
    timeframe: str
    last_open_time: int | None
    #: Closed candles missing between the newest stored one and the market clock.
    candles_behind: int | None

    @property
    def state(self) -> str:
        """``fresh`` (up to date), ``late`` (1 or 2 candles behind), ``stale`` or ``missing``."""
        if self.last_open_time is None:
            return "missing"
        if self.candles_behind is None or self.candles_behind <= 0:
            return "fresh"
        return "late" if self.candles_behind <= 2 else "stale"


@dataclass(frozen=True, slots=True)
class Freshness:
    market_now: int | None
    series: tuple[SeriesFreshness, ...]


def data_freshness(session: Session, *, exchange: str, timeframes: Sequence[str]) -> Freshness:
    """The newest candle of every active symbol on each of ``timeframes`` against the market
    clock: one row per symbol with one primary-key probe per timeframe, so the cost does not
    grow with the number of candles stored."""
    now = market_now(session, exchange=exchange)
    probes = [
        select(func.max(Candle.open_time))
        .where(Candle.symbol_id == Symbol.id, Candle.timeframe == timeframe)
        .scalar_subquery()
        .label(f"tf{i}")
        for i, timeframe in enumerate(timeframes)
    ]
    rows = session.execute(
        select(Symbol.symbol, *probes).where(Symbol.active.is_(True)).order_by(Symbol.symbol)
    ).all()
    series = []
    for row in rows:
        for timeframe, last in zip(timeframes, row[1:], strict=True):
            behind = None
            if last is not None and now is not None:
                step = timeframe_ms(timeframe)
                newest_closed = now - now % step - step
                behind = max(0, (newest_closed - int(last)) // step)
            series.append(
                SeriesFreshness(row[0], timeframe, None if last is None else int(last), behind)
            )
    return Freshness(market_now=now, series=tuple(series))
