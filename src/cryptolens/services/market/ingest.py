"""Ingestion: one cycle fetches every active symbol's newly closed candles concurrently and
stores them; backfill fills the holes of a range, resumably."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.candle_checks import next_open_time
from cryptolens.db.candles import find_gaps, latest_open_times
from cryptolens.db.known_gaps import Gap as Window
from cryptolens.db.known_gaps import load_known_gaps, record_known_gaps, split_known
from cryptolens.db.symbols import deactivate_symbol, ensure_symbol, list_symbols
from cryptolens.domain.errors import CryptoLensError, UnknownSymbolError, ValidationError
from cryptolens.domain.timeframes import ms_to_datetime, timeframe_ms
from cryptolens.market.exchange import ExchangeClient, FetchOutcome, FetchRequest, FetchResult
from cryptolens.market.resilience import CircuitBreaker
from cryptolens.services.market.candle_store import store_candles
from cryptolens.services.market.clock import record_market_now

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
        found = list_symbols(
            session, exchange=settings.exchange_id, active_only=True, names=symbols
        )
        return [(s.id, s.symbol) for s in found]


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


def _settle(
    engine: Engine, settings: Settings, symbol_id: int, symbol: str, outcome: FetchOutcome
) -> SymbolIngest:
    """Store one symbol's fetched candles, or record why there are none."""
    if isinstance(outcome, UnknownSymbolError):
        log.error("%s is not listed on %s: deactivated", symbol, settings.exchange_id)
        with Session(engine) as session, session.begin():
            deactivate_symbol(session, symbol_id=symbol_id, reason=str(outcome))
        return SymbolIngest(symbol, error=str(outcome))
    if isinstance(outcome, CryptoLensError):
        log.warning("%s: fetch failed: %s", symbol, outcome)
        return SymbolIngest(symbol, error=str(outcome))
    try:
        return _store(engine, settings, symbol_id, outcome)
    except Exception as exc:  # one symbol's failure never stops the others
        log.exception("%s: storing candles failed", symbol)
        return SymbolIngest(symbol, error=f"{type(exc).__name__}: {exc}")


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
    report = [
        _settle(engine, settings, *requests[request], outcome)
        for request, outcome in outcomes.items()
    ]
    with Session(engine) as session, session.begin():
        record_market_now(session, exchange=settings.exchange_id, now_ms=now_ms)
    return IngestReport(now_ms=now_ms, symbols=report)


@dataclass(frozen=True, slots=True)
class BackfillReport:
    """What a backfill fetched and stored, and the holes left in its range, told apart:

    * ``gaps_left``/``missing_candles``: real holes, ones the exchange was not asked about
      successfully (a rerun may fill them);
    * ``exchange_gaps``/``exchange_missing``: holes the exchange answered without candles
      too, recorded in the known-gaps registry;
    * ``unlisted_candles``: the stretch before the symbol's first candle on the exchange
      (``listed_from_ms``), which is no hole at all.
    """

    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    fetched: int
    stored: int
    rejected: int
    gaps_left: int
    missing_candles: int
    exchange_gaps: int = 0
    exchange_missing: int = 0
    listed_from_ms: int | None = None
    unlisted_candles: int = 0

    @property
    def complete(self) -> bool:
        return self.gaps_left == 0

    def summary(self) -> str:
        text = (
            f"{self.symbol} {self.timeframe}: fetched {self.fetched}, stored {self.stored}, "
            f"rejected {self.rejected}, gaps left {self.gaps_left} "
            f"({self.missing_candles} candles)"
        )
        if self.exchange_gaps:
            text += (
                f"; exchange gaps {self.exchange_gaps} ({self.exchange_missing} candles, "
                "confirmed by the exchange, recorded as known)"
            )
        if self.listed_from_ms is not None and self.unlisted_candles:
            listed = ms_to_datetime(self.listed_from_ms).strftime("%Y-%m-%d %H:%M")
            text += f"; history starts {listed} UTC ({self.unlisted_candles} candles before)"
        return text


ProgressCallback = Callable[[int], None]


@dataclass(slots=True)
class _BackfillTally:
    fetched: int = 0
    stored: int = 0
    rejected: int = 0
    confirmed: list[Window] = field(default_factory=list)

    def confirm(self, holes: list[Window]) -> None:
        """Add holes the exchange answered without, joining ones that meet across chunks."""
        for start, end in holes:
            if self.confirmed and self.confirmed[-1][1] == start:
                self.confirmed[-1] = (self.confirmed[-1][0], end)
            else:
                self.confirmed.append((start, end))


def _holes(open_times: npt.NDArray[np.int64], start: int, end: int, step: int) -> list[Window]:
    """The ``[from, to)`` ranges of ``[start, end)`` (aligned) with no open time."""
    bounds = np.concatenate(([start - step], open_times, [end]))
    return [
        (int(bounds[i]) + step, int(bounds[i + 1])) for i in np.flatnonzero(np.diff(bounds) > step)
    ]


@dataclass(frozen=True, slots=True)
class _BackfillJob:
    symbol: str
    symbol_id: int
    timeframe: str
    step: int
    now_ms: int
    higher: tuple[str, ...]
    chunk: int
    on_progress: ProgressCallback | None


async def _backfill_gap(
    engine: Engine,
    client: ExchangeClient,
    job: _BackfillJob,
    gap: Window,
    tally: _BackfillTally,
) -> None:
    """Fetch and store one hole chunk by chunk; raise the exchange's error if a chunk failed."""
    gap_start, gap_end = gap
    cursor = gap_start
    while cursor < gap_end:
        chunk_end = min(gap_end, cursor + job.chunk * job.step)
        result = await client.fetch_closed_candles(
            job.symbol, job.timeframe, cursor, chunk_end, now_ms=job.now_ms
        )
        with engine.begin() as connection:
            outcome = store_candles(
                connection,
                symbol_id=job.symbol_id,
                base_timeframe=job.timeframe,
                higher_timeframes=job.higher,
                candles=result.candles,
                now_ms=job.now_ms,
            )
        tally.fetched += len(result.candles)
        tally.stored += outcome.changed
        tally.rejected += sum(result.rejects.values())
        if result.error is not None:
            raise result.error
        # The exchange was asked about every candle of the chunk and answered without these.
        tally.confirm(_holes(result.candles.open_time, cursor, chunk_end, job.step))
        if job.on_progress:
            job.on_progress((chunk_end - cursor) // job.step)
        cursor = chunk_end


def _report_left(
    engine: Engine,
    settings: Settings,
    job: _BackfillJob,
    tally: _BackfillTally,
    window: Window,
) -> BackfillReport:
    """Sort the holes left in ``window`` into real ones, exchange gaps (recorded as known)
    and the stretch before the symbol's history starts on the exchange."""
    start, end = window
    with engine.begin() as connection:
        left = find_gaps(
            connection, symbol_id=job.symbol_id, timeframe=job.timeframe, start_ms=start, end_ms=end
        )
        first = next_open_time(
            connection, symbol_id=job.symbol_id, timeframe=job.timeframe, from_ms=0
        )
        confirmed = tally.confirmed + load_known_gaps(
            connection, symbol_id=job.symbol_id, timeframe=job.timeframe
        )
        exchange, real = split_known(left, confirmed)
        listed_from: int | None = None
        unlisted = 0
        if exchange and first is not None and exchange[0][1] == first:
            listed_from, unlisted = first, (first - exchange[0][0]) // job.step
            exchange = exchange[1:]
        record_known_gaps(
            connection,
            symbol_id=job.symbol_id,
            timeframe=job.timeframe,
            gaps=split_known(exchange, tally.confirmed)[0],  # new this run
            reason=f"{settings.exchange_id} answered without these candles (backfill)",
            now=utcnow(),
        )
    return BackfillReport(
        symbol=job.symbol,
        timeframe=job.timeframe,
        start_ms=start,
        end_ms=end,
        fetched=tally.fetched,
        stored=tally.stored,
        rejected=tally.rejected,
        gaps_left=len(real),
        missing_candles=_missing_candles(real, job.step),
        exchange_gaps=len(exchange),
        exchange_missing=_missing_candles(exchange, job.step),
        listed_from_ms=listed_from,
        unlisted_candles=unlisted,
    )


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
    The exchange is asked whether it lists ``symbol`` before anything is stored, so an unknown
    symbol raises UnknownSymbolError and is never added to the watched ones.
    """
    timeframe = timeframe or settings.base_timeframe
    step = timeframe_ms(timeframe)
    if chunk < 1:
        raise ValidationError("the backfill chunk must be at least one candle")
    if timeframe != settings.base_timeframe and timeframe not in settings.timeframes:
        raise ValidationError(f"timeframe {timeframe} is not configured (TIMEFRAMES)")
    symbol = symbol.strip().upper()
    await client.market(symbol)
    now_ms = await client.exchange_now_ms()
    horizon = now_ms - now_ms % step  # the forming candle's open time
    end = horizon if until_ms is None else min(until_ms, horizon)
    if since_ms >= end:
        raise ValidationError("--since must be before --until and before the exchange's now")
    with Session(engine) as session, session.begin():
        symbol_id = ensure_symbol(session, exchange=settings.exchange_id, symbol=symbol).id
    with engine.connect() as connection:
        gaps = find_gaps(
            connection, symbol_id=symbol_id, timeframe=timeframe, start_ms=since_ms, end_ms=end
        )
    if on_total:
        on_total(_missing_candles(gaps, step))
    job = _BackfillJob(
        symbol=symbol,
        symbol_id=symbol_id,
        timeframe=timeframe,
        step=step,
        now_ms=now_ms,
        higher=settings.higher_timeframes if timeframe == settings.base_timeframe else (),
        chunk=chunk,
        on_progress=on_progress,
    )
    tally = _BackfillTally()
    for gap in gaps:
        await _backfill_gap(engine, client, job, gap, tally)
    return _report_left(engine, settings, job, tally, (since_ms, end))
