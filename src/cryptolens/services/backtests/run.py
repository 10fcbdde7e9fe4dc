"""A backtest of stored history: the request checked before any work (symbol, range, the
plan's longest range, named parameters), the symbol's stored candles loaded, and the pure
engine run with the settings' own timeframes and signal rules, so it trades what the live
scanner would have signalled.

The replay starts cold at ``since``, as a scanner started that day would: zones formed
before it are not known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from cryptolens.backtest.engine import BacktestResult, run_backtest
from cryptolens.backtest.params import Value, parse_params, run_params
from cryptolens.config import Settings
from cryptolens.db.candles import load_candles
from cryptolens.db.symbols import require_symbol
from cryptolens.detect import Candles
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.plans import PlanLimits
from cryptolens.domain.timeframes import datetime_to_ms, finer_timeframes

#: ``progress(fraction, stage)``: how far a run is, for a job's meta and a progress bar.
Progress = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    """A checked request: one symbol, ``[since, until)`` in UTC, named parameter values."""

    symbol: str
    since: datetime
    until: datetime
    params: Mapping[str, Value]

    @property
    def since_ms(self) -> int:
        return datetime_to_ms(self.since)

    @property
    def until_ms(self) -> int:
        return datetime_to_ms(self.until)


def check_request(
    *,
    symbol: str,
    since: datetime,
    until: datetime,
    params: Mapping[str, object],
    limits: PlanLimits | None = None,
) -> BacktestRequest:
    """The request, or ValidationError naming what is wrong: an empty or reversed range, a
    range longer than the plan allows (``limits``; None: no limit), an unknown parameter or
    a value out of range."""
    since, until = _utc(since), _utc(until)
    if until <= since:
        raise ValidationError("until must be after since")
    days = (until - since).total_seconds() / 86_400
    if limits is not None and limits.backtest_days is not None and days > limits.backtest_days:
        raise ValidationError(
            f"the range covers {days:,.0f} days; the {limits.title} plan allows backtests "
            f"of up to {limits.backtest_days:,} days"
        )
    symbol = symbol.strip()
    if not symbol:
        raise ValidationError("symbol is required")
    return BacktestRequest(symbol, since, until, parse_params(params))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class History:
    """A symbol's stored base candles in the range, and finer ones where stored."""

    base: Candles
    finer: Candles | None
    finer_timeframe: str | None


def load_history(
    connection: Connection, settings: Settings, *, symbol_id: int, request: BacktestRequest
) -> History:
    """The stored candles of ``request``'s range; ValidationError when there are none."""
    start, end = request.since_ms, request.until_ms
    base_tf = settings.base_timeframe
    base = load_candles(
        connection, symbol_id=symbol_id, timeframe=base_tf, start_ms=start, end_ms=end
    )
    if len(base.open_time) == 0:
        raise _no_candles(base_tf, request)
    for tf in finer_timeframes(base_tf):
        finer = load_candles(
            connection, symbol_id=symbol_id, timeframe=tf, start_ms=start, end_ms=end
        )
        if len(finer.open_time):
            return History(base, finer, tf)
    return History(base, None, None)


def _no_candles(timeframe: str, request: BacktestRequest) -> ValidationError:
    return ValidationError(
        f"no stored {timeframe} candles for {request.symbol} between "
        f"{request.since:%Y-%m-%d %H:%M} and {request.until:%Y-%m-%d %H:%M} UTC"
    )


def check_stored(session: Session, settings: Settings, request: BacktestRequest) -> None:
    """What a run of ``request`` would fail on, found before it is queued (one indexed row
    read): NotFoundError for a symbol not watched, ValidationError (as ``load_history``'s)
    when no base candle of it is stored in the range."""
    symbol = require_symbol(session, exchange=settings.exchange_id, symbol=request.symbol)
    first = load_candles(
        session.connection(),
        symbol_id=symbol.id,
        timeframe=settings.base_timeframe,
        start_ms=request.since_ms,
        end_ms=request.until_ms,
        limit=1,
    )
    if len(first.open_time) == 0:
        raise _no_candles(settings.base_timeframe, request)


def stored_history(engine: Engine, settings: Settings, request: BacktestRequest) -> History:
    """``load_history`` for the watched symbol ``request`` names (NotFoundError if none)."""
    with Session(engine) as session:
        symbol = require_symbol(session, exchange=settings.exchange_id, symbol=request.symbol)
        return load_history(session.connection(), settings, symbol_id=symbol.id, request=request)


def run_stored_backtest(
    engine: Engine,
    settings: Settings,
    request: BacktestRequest,
    *,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest ``request`` on the stored candles with the settings' timeframes and signal
    rules (named parameters override them). NotFoundError for a symbol not watched."""
    report = progress or (lambda fraction, stage: None)
    report(0.0, "loading candles")
    chosen = run_params(request.params, signals=settings.signal_params())
    history = stored_history(engine, settings, request)
    report(0.2, "replaying the live pipeline")
    result = run_backtest(
        history.base,
        base_timeframe=settings.base_timeframe,
        timeframes=settings.timeframes,
        symbol=request.symbol,
        signals=chosen.signals,
        execution=chosen.execution,
        finer=history.finer,
        finer_timeframe=history.finer_timeframe,
    )
    report(1.0, "done")
    return result
