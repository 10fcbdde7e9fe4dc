"""Database health: are the stored candles whole, unique, aligned, and do the higher timeframes
agree with the base data they are built from? And the repair that makes them so.

The check reads only the database. Aggregates are recomputed from the stored base candles with
the same :func:`aggregate_all` ingestion uses, in windows of about ``WINDOW_CANDLES`` base
candles aligned to every higher timeframe (no bucket straddles two windows), so memory stays
bounded however long the history is.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.candle_checks import (
    TimeframeExtent,
    delete_misaligned,
    delete_open_times,
    duplicate_keys,
    misaligned_counts,
    next_open_time,
    timeframe_extents,
)
from cryptolens.db.candles import (
    StoredCandles,
    find_gaps,
    load_candles,
    load_stored_candles,
    upsert_candles,
)
from cryptolens.db.known_gaps import load_known_gaps, split_known
from cryptolens.db.models import Symbol
from cryptolens.db.symbols import list_symbols, require_symbol
from cryptolens.detect.candles import Candles
from cryptolens.domain.errors import CryptoLensError, NotFoundError, ValidationError
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.market.aggregate import AggregatedCandles, aggregate_all
from cryptolens.market.exchange import ExchangeClient
from cryptolens.services.market.candle_audit_report import (
    HealthReport,
    RepairCounts,
    SymbolHealth,
    TimeframeHealth,
    Window,
)
from cryptolens.services.market.ingest import _missing_candles, backfill, exchange_client

__all__ = [
    "WINDOW_CANDLES",
    "HealthReport",
    "RepairCounts",
    "SymbolHealth",
    "TimeframeHealth",
    "check_candles",
    "repair",
    "run_db_health",
]

#: Base candles recomputed per window (rounded to whole buckets of the largest timeframe).
WINDOW_CANDLES = 50_000
#: Prices of an aggregate are picked from base candles (first, max, min, last), never computed,
#: so they must match bit for bit. Volume is a float sum: the same function over the same values
#: gives the same bits, but a bucket stored by an earlier, differently cut re-aggregation may
#: differ in the last place. Summing n positive terms errs by at most about n * 2**-53 relative
#: (n <= 1440 for 1m into 1d: ~2e-13); 1e-10 leaves a wide margin and still catches any change
#: in the tenth significant digit.
VOLUME_RTOL = 1e-10


@dataclass(slots=True)
class _Tally:
    missing: int = 0
    extra: int = 0
    different: int = 0


def _aligned(candles: Candles, step: int) -> Candles:
    return candles.take(candles.open_time % step == 0)


def _aggregate_window(
    connection: Connection, *, settings: Settings, symbol_id: int, window: Window, now_ms: int
) -> dict[str, AggregatedCandles]:
    """Every higher timeframe built from the window's stored, aligned base candles."""
    start, end = window
    base_tf = settings.base_timeframe
    stored = load_candles(
        connection, symbol_id=symbol_id, timeframe=base_tf, start_ms=start, end_ms=end
    )
    base = _aligned(stored, timeframe_ms(base_tf))
    if not len(base):
        return {}
    return aggregate_all(
        base, base_timeframe=base_tf, targets=settings.higher_timeframes, now_ms=now_ms
    )


def _differs(
    built: AggregatedCandles,
    b: npt.NDArray[np.intp],
    stored: StoredCandles,
    s: npt.NDArray[np.intp],
) -> npt.NDArray[np.bool_]:
    """Per matched bucket: does the stored row differ from the recomputed one?"""
    differs: npt.NDArray[np.bool_] = built.complete[b] != stored.complete[s]
    for column in ("open", "high", "low", "close"):
        differs |= getattr(built, column)[b] != getattr(stored.candles, column)[s]
    volume = stored.candles.volume[s]
    differs |= ~np.isclose(built.volume[b], volume, rtol=VOLUME_RTOL, atol=0.0)
    return differs


def _compare_window(
    connection: Connection,
    *,
    symbol_id: int,
    settings: Settings,
    window: Window,
    horizon: int,
    tallies: dict[str, _Tally],
) -> bool:
    """Compare one window's stored aggregates with a recomputation; True if any disagree.

    Every bucket in the window is built as if its period had ended; one ending after the close
    of the newest base candle (``horizon``) may legitimately not be stored yet, so its absence
    is not counted.
    """
    start, end = window
    built = _aggregate_window(
        connection, settings=settings, symbol_id=symbol_id, window=window, now_ms=end
    )
    stale = False
    for timeframe in settings.higher_timeframes:
        step = timeframe_ms(timeframe)
        stored = load_stored_candles(
            connection, symbol_id=symbol_id, timeframe=timeframe, start_ms=start, end_ms=end
        )
        times = stored.candles.open_time
        stored_times = np.where(times % step == 0, times, -1)
        expected = built.get(timeframe)
        expected_times = expected.open_time if expected is not None else np.empty(0, dtype=np.int64)
        _, b, s = np.intersect1d(expected_times, stored_times, return_indices=True)
        optional = expected_times + step > horizon
        unmatched = np.ones(expected_times.shape[0], dtype=bool)
        unmatched[b] = False
        tally = tallies[timeframe]
        missing = int((unmatched & ~optional).sum())
        extra = int((stored_times >= 0).sum()) - b.shape[0]
        different = int(_differs(expected, b, stored, s).sum()) if expected is not None else 0
        tally.missing += missing
        tally.extra += extra
        tally.different += different
        stale = stale or bool(missing or extra or different)
    return stale


def _windows(
    connection: Connection,
    *,
    symbol_id: int,
    settings: Settings,
    first_ms: int,
    window_candles: int,
) -> list[Window]:
    """Aligned windows covering every stored candle from ``first_ms`` on, skipping empty
    stretches (a stray row years away costs one window, not thousands)."""
    unit = math.lcm(*(timeframe_ms(tf) for tf in settings.timeframes))
    span = max(1, window_candles * timeframe_ms(settings.base_timeframe) // unit) * unit
    windows: list[Window] = []
    cursor = first_ms
    while True:
        present = [
            t
            for tf in settings.timeframes
            if (t := next_open_time(connection, symbol_id=symbol_id, timeframe=tf, from_ms=cursor))
            is not None
        ]
        if not present:
            return windows
        start = min(present) - min(present) % unit
        windows.append((start, start + span))
        cursor = start + span


def _holes(
    connection: Connection,
    *,
    settings: Settings,
    symbol_id: int,
    extents: dict[str, TimeframeExtent],
) -> tuple[list[Window], list[Window], int]:
    """(holes, known holes, horizon) of the base timeframe between its first and last stored
    candle; the horizon is the close of the newest one (0 without base data)."""
    base_tf = settings.base_timeframe
    if base_tf not in extents:
        return [], [], 0
    horizon = extents[base_tf].last_ms + timeframe_ms(base_tf)
    holes = find_gaps(
        connection,
        symbol_id=symbol_id,
        timeframe=base_tf,
        start_ms=extents[base_tf].first_ms,
        end_ms=horizon,
    )
    known = load_known_gaps(connection, symbol_id=symbol_id, timeframe=base_tf)
    inside, rest = split_known(holes, known)
    return rest, inside, horizon


def _stale_windows(
    connection: Connection,
    *,
    settings: Settings,
    symbol_id: int,
    extents: dict[str, TimeframeExtent],
    horizon: int,
    window_candles: int,
) -> tuple[list[Window], dict[str, _Tally]]:
    """The windows whose stored aggregates disagree with the base data, and the tallies."""
    tallies = {tf: _Tally() for tf in settings.higher_timeframes}
    stale: list[Window] = []
    if not (settings.higher_timeframes and extents):
        return stale, tallies
    for window in _windows(
        connection,
        symbol_id=symbol_id,
        settings=settings,
        first_ms=min(e.first_ms for e in extents.values()),
        window_candles=window_candles,
    ):
        if _compare_window(
            connection,
            symbol_id=symbol_id,
            settings=settings,
            window=window,
            horizon=horizon,
            tallies=tallies,
        ):
            stale.append(window)
    return stale, tallies


def _check_symbol(
    connection: Connection,
    *,
    settings: Settings,
    symbol_id: int,
    symbol: str,
    window_candles: int,
) -> SymbolHealth:
    names = settings.timeframes
    extents = timeframe_extents(connection, symbol_id=symbol_id, timeframes=names)
    duplicates = duplicate_keys(connection, symbol_id=symbol_id, timeframes=names)
    misaligned = misaligned_counts(connection, symbol_id=symbol_id, timeframes=names)
    step = timeframe_ms(settings.base_timeframe)
    # No base data: nothing is recomputed and every stored aggregate is extra (horizon 0).
    holes, known, horizon = _holes(
        connection, settings=settings, symbol_id=symbol_id, extents=extents
    )
    stale, tallies = _stale_windows(
        connection,
        settings=settings,
        symbol_id=symbol_id,
        extents=extents,
        horizon=horizon,
        window_candles=window_candles,
    )
    timeframes = tuple(
        TimeframeHealth(
            timeframe=tf,
            rows=extents[tf].rows if tf in extents else 0,
            duplicates=duplicates.get(tf, 0),
            misaligned=misaligned.get(tf, 0),
            **(
                {"missing": t.missing, "extra": t.extra, "different": t.different}
                if (t := tallies.get(tf))
                else {}
            ),
        )
        for tf in names
    )
    return SymbolHealth(
        symbol_id=symbol_id,
        symbol=symbol,
        timeframes=timeframes,
        holes=tuple(holes),
        missing_candles=_missing_candles(holes, step),
        known_holes=tuple(known),
        known_missing=_missing_candles(known, step),
        stale_windows=tuple(stale),
    )


def _symbols(
    connection: Connection, *, settings: Settings, symbol_id: int | None
) -> list[tuple[int, str]]:
    with Session(bind=connection) as session:
        if symbol_id is None:
            rows = list_symbols(session, exchange=settings.exchange_id, active_only=True)
            return [(row.id, row.symbol) for row in rows]
        found = session.get(Symbol, symbol_id)
        if found is None or found.exchange != settings.exchange_id:
            raise NotFoundError(f"symbol id {symbol_id} is not watched on {settings.exchange_id}")
        return [(found.id, found.symbol)]


def check_candles(
    connection: Connection,
    *,
    settings: Settings,
    symbol_id: int | None = None,
    window_candles: int = WINDOW_CANDLES,
) -> HealthReport:
    """Check the stored candles of every active symbol of the configured exchange (or one).

    Raises NotFoundError for a ``symbol_id`` not watched on the configured exchange.
    """
    if window_candles < 1:
        raise ValidationError("a check window must hold at least one candle")
    checked = tuple(
        _check_symbol(
            connection,
            settings=settings,
            symbol_id=sid,
            symbol=name,
            window_candles=window_candles,
        )
        for sid, name in _symbols(connection, settings=settings, symbol_id=symbol_id)
    )
    return HealthReport(base_timeframe=settings.base_timeframe, symbols=checked)


def _rebuild_window(
    connection: Connection, *, settings: Settings, symbol_id: int, window: Window, now_ms: int
) -> tuple[int, int]:
    """Rewrite one window's aggregates from its base candles; return (upserted, deleted).

    Buckets closed at ``now_ms`` (the exchange's clock, as ingestion uses) are upserted; stored
    rows of the window that the base data does not produce (no base candle, or misaligned) go.
    """
    start, end = window
    built = _aggregate_window(
        connection, settings=settings, symbol_id=symbol_id, window=window, now_ms=now_ms
    )
    upserted = deleted = 0
    for timeframe in settings.higher_timeframes:
        buckets = built.get(timeframe)
        keep = buckets.open_time if buckets is not None else np.empty(0, dtype=np.int64)
        if buckets is not None and len(buckets):
            upserted += upsert_candles(
                connection,
                symbol_id=symbol_id,
                timeframe=timeframe,
                candles=buckets,
                complete=buckets.complete,
            )
        stored = load_candles(
            connection, symbol_id=symbol_id, timeframe=timeframe, start_ms=start, end_ms=end
        ).open_time
        surplus = stored[~np.isin(stored, keep)]
        if surplus.size:
            deleted += delete_open_times(
                connection,
                symbol_id=symbol_id,
                timeframe=timeframe,
                open_times=surplus.tolist(),
            )
    return upserted, deleted


async def _repair_symbol(
    engine: Engine,
    settings: Settings,
    client: ExchangeClient,
    health: SymbolHealth,
    now_ms: int,
) -> RepairCounts:
    with engine.begin() as connection:
        deleted = delete_misaligned(
            connection, symbol_id=health.symbol_id, timeframes=settings.timeframes
        )
    fetched = stored = 0
    if health.holes:
        # One backfill over the span of the holes: it works from the stored data's own gaps.
        filled = await backfill(
            engine,
            settings,
            client,
            symbol=health.symbol,
            since_ms=health.holes[0][0],
            until_ms=health.holes[-1][1],
        )
        fetched, stored = filled.fetched, filled.stored
    rebuilt = 0
    for window in health.stale_windows:
        with engine.begin() as connection:
            upserted, removed = _rebuild_window(
                connection,
                settings=settings,
                symbol_id=health.symbol_id,
                window=window,
                now_ms=now_ms,
            )
        rebuilt += upserted
        deleted += removed
    return RepairCounts(fetched=fetched, stored=stored, rebuilt=rebuilt, deleted=deleted)


async def repair(
    engine: Engine, settings: Settings, client: ExchangeClient, report: HealthReport
) -> HealthReport:
    """Repair what ``report`` found, then check the same symbols again and return that.

    Misaligned rows are deleted, holes are backfilled from the exchange (which rebuilds their
    buckets), and windows whose aggregates disagreed are rebuilt from the base data. Holes the
    exchange does not have either remain and are reported; duplicates (which the primary key
    rules out) are only reported. One symbol's failure is recorded and the others go on.
    """
    now_ms = await client.exchange_now_ms()
    totals = RepairCounts()
    errors: dict[int, str] = {}
    for health in report.symbols:
        if health.healthy:
            continue
        try:
            done = await _repair_symbol(engine, settings, client, health, now_ms)
        except CryptoLensError as exc:
            errors[health.symbol_id] = f"repair failed: {exc}"
            totals = replace(totals, failed=totals.failed + 1)
            continue
        totals = RepairCounts(
            fetched=totals.fetched + done.fetched,
            stored=totals.stored + done.stored,
            rebuilt=totals.rebuilt + done.rebuilt,
            deleted=totals.deleted + done.deleted,
            failed=totals.failed,
        )
    with engine.connect() as connection:
        checked = [
            _check_symbol(
                connection,
                settings=settings,
                symbol_id=health.symbol_id,
                symbol=health.symbol,
                window_candles=WINDOW_CANDLES,
            )
            for health in report.symbols
        ]
    symbols = tuple(replace(s, error=errors.get(s.symbol_id)) for s in checked)
    return HealthReport(base_timeframe=report.base_timeframe, symbols=symbols, repair=totals)


def run_db_health(
    engine: Engine, settings: Settings, *, fix: bool, symbol: str | None = None
) -> HealthReport:
    """Check every active symbol (or ``symbol``); with ``fix``, repair through the exchange and
    return the re-check. The entry point for the CLI and the daily job.

    Raises NotFoundError for a symbol not watched, ValidationError for ``fix`` on an inactive
    one (a backfill would re-activate it), CryptoLensError when the exchange is unreachable.
    """
    symbol_id: int | None = None
    if symbol is not None:
        with Session(engine) as session:
            found = require_symbol(session, exchange=settings.exchange_id, symbol=symbol)
            symbol_id, active = found.id, found.active
        if fix and not active:
            raise ValidationError(
                f"symbol {symbol.upper()} is not active; `cryptolens symbols add` it before --fix"
            )
    with engine.connect() as connection:
        report = check_candles(connection, settings=settings, symbol_id=symbol_id)
    if not fix or report.healthy:
        return report

    async def fix_all() -> HealthReport:
        async with exchange_client(settings) as client:
            return await repair(engine, settings, client, report)

    return asyncio.run(fix_all())
