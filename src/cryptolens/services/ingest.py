"""Ingestion: one cycle fetches every active symbol's newly closed candles concurrently and
stores them; backfill fills the holes of a range, resumably."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.candles import find_gaps, latest_open_times
from cryptolens.db.symbols import deactivate_symbol, ensure_symbol, list_symbols
from cryptolens.domain.errors import CryptoLensError, UnknownSymbolError, ValidationError
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.market.exchange import ExchangeClient, FetchRequest, FetchResult
from cryptolens.market.resilience import CircuitBreaker
from cryptolens.services.candles import store_candles
from cryptolens.services.market_clock import record_market_now

log = logging.getLogger(__name__)

#: Stored candles re-fetched every cycle, so a candle the exchange revised is corrected.
REFETCH_CANDLES = 3
#: How far back a symbol with no stored candles starts, in base candles.
INITIAL_CANDLES = 1_000
#: Base candles fetched (and committed) per backfill step: the unit of resumption.
BACKFILL_CHUNK = 5_000


def exchange_client(settings: Settings, *, breaker: CircuitBreaker | None = None) -> ExchangeClient:
    """The configured exchange, pointed at ``EXCHANGE_API_URL`` when set."""
    return ExchangeClient(
        settings.exchange_id,
        api_url=settings.exchange_api_url,
        timeout_ms=settings.exchange_timeout_ms,
        max_concurrency=settings.exchange_concurrency,
        breaker=breaker,
        # Against a local simulator CCXT's own throttle only slows tests and demos down.
        enable_rate_limit=settings.exchange_api_url is None,
    )


@dataclass(frozen=True, slots=True)
class SymbolIngest:
    symbol: str
    fetched: int = 0
    changed: int = 0
    aggregated: int = 0
    rejected: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class IngestReport:
    now_ms: int | None
    symbols: list[SymbolIngest] = field(default_factory=list)

    @property
    def failed(self) -> list[SymbolIngest]:
        return [s for s in self.symbols if s.error]

    def counts(self) -> dict[str, int]:
        return {
            "symbols": len(self.symbols),
            "fetched": sum(s.fetched for s in self.symbols),
            "changed": sum(s.changed for s in self.symbols),
            "aggregated": sum(s.aggregated for s in self.symbols),
            "rejected": sum(s.rejected for s in self.symbols),
            "failed": len(self.failed),
        }


def watched_symbols(
    engine: Engine, settings: Settings, symbols: list[str] | None = None
) -> list[tuple[int, str]]:
    """(id, symbol) of the exchange's active symbols, or of those among ``symbols``."""
    with Session(engine) as session:
        return [
            (s.id, s.symbol)
            for s in list_symbols(session, exchange=settings.exchange_id, active_only=True)
            if symbols is None or s.symbol in symbols
        ]


def _since(last: int | None, timeframe: str, now_ms: int) -> int:
    """Where a symbol's fetch starts: a few stored candles back, or a fixed history if none."""
    step = timeframe_ms(timeframe)
    if last is None:
        return now_ms - now_ms % step - INITIAL_CANDLES * step
    return last - (REFETCH_CANDLES - 1) * step


def _missing_candles(gaps: list[tuple[int, int]], step: int) -> int:
    return sum((end - start) // step for start, end in gaps)


def _store(engine: Engine, settings: Settings, symbol_id: int, result: FetchResult) -> SymbolIngest:
    rejected = sum(result.rejects.values())
    if rejected:
        log.warning(
            "%s: rejected %d malformed rows (%s)",
            result.symbol,
            rejected,
            ", ".join(f"{reason}={n}" for reason, n in result.rejects.items()),
        )
    with engine.begin() as connection:
        stored = store_candles(
            connection,
            symbol_id=symbol_id,
            base_timeframe=settings.base_timeframe,
            higher_timeframes=settings.higher_timeframes,
            candles=result.candles,
            now_ms=result.now_ms,
        )
    return SymbolIngest(
        symbol=result.symbol,
        fetched=len(result.candles),
        changed=stored.changed,
        aggregated=stored.aggregated,
        rejected=rejected,
        error=str(result.error) if result.error else None,
    )


async def ingest_cycle(
    engine: Engine, settings: Settings, client: ExchangeClient, *, symbols: list[str] | None = None
) -> IngestReport:
    """Fetch and store newly closed base candles of every active symbol (or ``symbols``)."""
    watched = watched_symbols(engine, settings, symbols)
    if not watched:
        return IngestReport(now_ms=None)
    try:
        now_ms = await client.exchange_now_ms()
    except CryptoLensError as exc:
        log.error("exchange %s unreachable: %s", settings.exchange_id, exc)
        return IngestReport(None, [SymbolIngest(symbol, error=str(exc)) for _, symbol in watched])
    with engine.connect() as connection:
        latest = latest_open_times(
            connection, symbol_ids=[sid for sid, _ in watched], timeframe=settings.base_timeframe
        )
    requests = {
        FetchRequest(
            symbol,
            settings.base_timeframe,
            _since(latest.get(sid), settings.base_timeframe, now_ms),
        ): (sid, symbol)
        for sid, symbol in watched
    }
    outcomes = await client.fetch_many(requests, now_ms=now_ms)
    report: list[SymbolIngest] = []
    for request, outcome in outcomes.items():
        symbol_id, symbol = requests[request]
        if isinstance(outcome, UnknownSymbolError):
            log.error("%s is not listed on %s: deactivated", symbol, settings.exchange_id)
            with Session(engine) as session, session.begin():
                deactivate_symbol(session, symbol_id=symbol_id, reason=str(outcome))
            report.append(SymbolIngest(symbol, error=str(outcome)))
        elif isinstance(outcome, CryptoLensError):
            log.warning("%s: fetch failed: %s", symbol, outcome)
            report.append(SymbolIngest(symbol, error=str(outcome)))
        else:
            try:
                report.append(_store(engine, settings, symbol_id, outcome))
            except Exception as exc:  # one symbol's failure never stops the others
                log.exception("%s: storing candles failed", symbol)
                report.append(SymbolIngest(symbol, error=f"{type(exc).__name__}: {exc}"))
    with Session(engine) as session, session.begin():
        record_market_now(session, exchange=settings.exchange_id, now_ms=now_ms)
    return IngestReport(now_ms=now_ms, symbols=report)


@dataclass(frozen=True, slots=True)
class BackfillReport:
    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    fetched: int
    stored: int
    rejected: int
    gaps_left: int
    missing_candles: int

    def summary(self) -> str:
        return (
            f"{self.symbol} {self.timeframe}: fetched {self.fetched}, stored {self.stored}, "
            f"rejected {self.rejected}, gaps left {self.gaps_left} "
            f"({self.missing_candles} candles)"
        )


ProgressCallback = Callable[[int], None]


async def backfill(
    engine: Engine,
    settings: Settings,
    client: ExchangeClient,
    *,
    symbol: str,
    since_ms: int,
    until_ms: int | None = None,
    timeframe: str | None = None,
    on_total: Callable[[int], None] | None = None,
    on_progress: ProgressCallback | None = None,
    chunk: int = BACKFILL_CHUNK,
) -> BackfillReport:
    """Fetch the candles missing in ``[since, until)`` and store them chunk by chunk.

    Each chunk commits on its own, and the work list is the stored data's holes, so a run that
    is killed and started again continues where it stopped: no duplicate, no hole left behind.
    """
    timeframe = timeframe or settings.base_timeframe
    step = timeframe_ms(timeframe)
    if chunk < 1:
        raise ValidationError("the backfill chunk must be at least one candle")
    if timeframe != settings.base_timeframe and timeframe not in settings.timeframes:
        raise ValidationError(f"timeframe {timeframe} is not configured (TIMEFRAMES)")
    with Session(engine) as session, session.begin():
        symbol_id = ensure_symbol(session, exchange=settings.exchange_id, symbol=symbol).id
    now_ms = await client.exchange_now_ms()
    horizon = now_ms - now_ms % step  # the forming candle's open time
    end = horizon if until_ms is None else min(until_ms, horizon)
    if since_ms >= end:
        raise ValidationError("--since must be before --until and before the exchange's now")
    with engine.connect() as connection:
        gaps = find_gaps(
            connection, symbol_id=symbol_id, timeframe=timeframe, start_ms=since_ms, end_ms=end
        )
    if on_total:
        on_total(_missing_candles(gaps, step))
    higher = settings.higher_timeframes if timeframe == settings.base_timeframe else ()
    fetched = stored = rejected = 0
    for gap_start, gap_end in gaps:
        cursor = gap_start
        while cursor < gap_end:
            chunk_end = min(gap_end, cursor + chunk * step)
            result = await client.fetch_closed_candles(
                symbol, timeframe, cursor, chunk_end, now_ms=now_ms
            )
            with engine.begin() as connection:
                outcome = store_candles(
                    connection,
                    symbol_id=symbol_id,
                    base_timeframe=timeframe,
                    higher_timeframes=higher,
                    candles=result.candles,
                    now_ms=now_ms,
                )
            fetched += len(result.candles)
            stored += outcome.changed
            rejected += sum(result.rejects.values())
            if result.error is not None:
                raise result.error
            if on_progress:
                on_progress((chunk_end - cursor) // step)
            cursor = chunk_end
    with engine.connect() as connection:
        left = find_gaps(
            connection, symbol_id=symbol_id, timeframe=timeframe, start_ms=since_ms, end_ms=end
        )
    return BackfillReport(
        symbol=symbol.upper(),
        timeframe=timeframe,
        start_ms=since_ms,
        end_ms=end,
        fetched=fetched,
        stored=stored,
        rejected=rejected,
        gaps_left=len(left),
        missing_candles=_missing_candles(left, step),
    )
