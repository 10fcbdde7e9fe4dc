"""The scanner: newly closed candles -> zones -> lifecycle -> signals -> outcomes, per symbol.

Each symbol is one transaction. Work is driven by stored progress (``scan_states``), not by
the clock: a scan consumes every candle closed since the last one, in time order, and
evaluates signals at every base-candle close among them, so a scan after a long downtime
ends in exactly the state a scanner that never stopped would have reached.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from cryptolens.config import Settings
from cryptolens.db.candles import load_candles_after, no_candles
from cryptolens.db.events import record_events
from cryptolens.db.patterns import (
    OpenPattern,
    PatternKey,
    load_open_patterns,
    pattern_ids,
    update_lifecycles,
    upsert_patterns,
)
from cryptolens.db.scan_states import ScanProgress, advance_scan_state, load_scan_states
from cryptolens.db.signals import insert_signals, last_signal_times, load_open_signals
from cryptolens.db.signals import update_outcomes as store_outcomes
from cryptolens.detect import (
    Candles,
    Zone,
    ZoneState,
    advance_zones,
    as_candles,
    detect_incremental,
    initial_state,
    state_from_dict,
    state_to_dict,
    wilder_atr,
)
from cryptolens.domain.enums import Direction
from cryptolens.domain.events import NewEvent
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.infra import metrics
from cryptolens.market.exchange import ExchangeClient
from cryptolens.services.market.ingest import (
    IngestReport,
    exchange_client,
    ingest_cycle,
    watched_symbols,
)
from cryptolens.services.ops.runtime_settings import load_runtime
from cryptolens.services.quality.models import StoredModel
from cryptolens.services.quality.predict import Quality, current_model, score_new_zones
from cryptolens.services.scanning import scan_events
from cryptolens.services.scanning.finer import StoredFinerCandles
from cryptolens.services.scanning.zone_rows import (
    BookBuilder,
    draft_trade,
    lifecycle_values,
    new_pattern_row,
    outcome_values,
    signal_row,
    stored_trade,
    stored_zone_state,
)
from cryptolens.signals import SignalParams, Steps, find_signals, track
from cryptolens.signals.quality_gate import counts

log = logging.getLogger(__name__)


class Phases:
    """Wall time spent per phase, summed over symbols."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start


@dataclass(frozen=True, slots=True)
class SymbolScan:
    symbol_id: int
    symbol: str
    candles: int = 0
    zones_new: int = 0
    zones_closed: int = 0
    signals_new: int = 0
    signals_closed: int = 0
    skipped: str | None = None
    error: str | None = None
    #: Ids of the signals this scan created.
    signal_ids: tuple[int, ...] = ()
    #: One readable line per new signal, logged once the scan is committed.
    signal_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanReport:
    symbols: list[SymbolScan]
    ingest: IngestReport | None = None
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def signal_ids(self) -> list[int]:
        """Ids of the signals this scan created, symbol by symbol."""
        return [sid for s in self.symbols for sid in s.signal_ids]

    @property
    def failed(self) -> list[SymbolScan]:
        return [s for s in self.symbols if s.error]

    def counts(self) -> dict[str, int]:
        out = {
            "symbols": len(self.symbols),
            "candles": sum(s.candles for s in self.symbols),
            "zones_new": sum(s.zones_new for s in self.symbols),
            "zones_closed": sum(s.zones_closed for s in self.symbols),
            "signals_new": sum(s.signals_new for s in self.symbols),
            "signals_closed": sum(s.signals_closed for s in self.symbols),
            "skipped": sum(1 for s in self.symbols if s.skipped),
            "failed": len(self.failed),
        }
        if self.ingest is not None:
            out["ingest_failed"] = len(self.ingest.failed)
        return out


class _LostRace(Exception):
    """Another scanner advanced this symbol first; this scan's transaction is rolled back."""


def scan_stored(
    engine: Engine,
    settings: Settings,
    *,
    symbol_id: int,
    symbol: str,
    phases: Phases | None = None,
) -> SymbolScan:
    """Scan one symbol's stored candles; never raises (failures are logged and reported)."""
    phases = phases or Phases()
    try:
        with engine.begin() as connection:
            scanned = _scan(connection, settings, symbol_id, symbol, phases)
    except (_LostRace, IntegrityError):
        log.info("%s: another scan got there first; skipped", symbol)
        return SymbolScan(symbol_id, symbol, skipped="already scanned by another worker")
    except OperationalError as exc:
        if "locked" in str(exc).lower():
            log.info("%s: database busy with another scan; skipped", symbol)
            return SymbolScan(symbol_id, symbol, skipped="database busy with another scan")
        log.exception("%s: scan failed", symbol)
        return SymbolScan(symbol_id, symbol, error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # one symbol's failure never stops the others
        log.exception("%s: scan failed", symbol)
        return SymbolScan(symbol_id, symbol, error=f"{type(exc).__name__}: {exc}")
    metrics.count_signals(settings.exchange_id, scanned.signals_new)  # committed ones only
    for line in scanned.signal_lines:
        log.info("%s", line)
    return scanned


def signal_line(symbol: str, signal_id: int, values: dict[str, Any]) -> str:
    """``new signal #12 BTC/USDT LONG confluence 3 (1h,4h) entry 100 stop 98 targets 102 /
    104 / 106``: one line a person reads in the log."""
    targets = " / ".join(f"{values[f'target_{n}']:.6g}" for n in (1, 2, 3))
    return (
        f"new signal #{signal_id} {symbol} {str(values['direction']).upper()} "
        f"confluence {values['confluence']} ({values.get('timeframes', '')}) "
        f"entry {values['entry']:.6g} stop {values['stop']:.6g} targets {targets}"
    )


def _may_have_new(tf: str, since: int | None, base_through: int | None, base_ms: int) -> bool:
    """Whether a candle of ``tf`` after ``since`` can be stored yet: an aggregate exists only
    once the base candles reach its end, so most minutes skip the higher timeframes' query."""
    if since is None or base_through is None:
        return True
    return base_through + base_ms >= since + 2 * timeframe_ms(tf)


@dataclass
class _Collected:
    book: BookBuilder = field(default_factory=BookBuilder)
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    closed: int = 0
    base: Candles | None = None
    base_atr: Any = None
    #: Open time of the last base candle stored (tells which higher timeframes can be new).
    base_through: int | None = None
    signal_lines: list[str] = field(default_factory=list)
    min_quality: float = 0.0

    def add(self, index: int, key: PatternKey, state: ZoneState, strength: float,
            quality: float | None) -> None:  # fmt: skip
        """Put a zone in the book if it counts under SIGNAL_MIN_QUALITY."""
        if counts(quality, self.min_quality):
            self.book.add(index, key, state, strength)


@dataclass(frozen=True, slots=True)
class _Target:
    """What every step of one symbol's scan works on."""

    connection: Connection
    settings: Settings
    symbol_id: int
    symbol: str
    phases: Phases
    model: StoredModel | None = None


def _scan(
    connection: Connection, settings: Settings, symbol_id: int, symbol: str, phases: Phases
) -> SymbolScan:
    target = _Target(connection, settings, symbol_id, symbol, phases, current_model(settings))
    with phases("load"):
        progress = load_scan_states(connection, symbol_id=symbol_id)
        open_rows: dict[str, list[OpenPattern]] = defaultdict(list)
        for row in load_open_patterns(connection, symbol_id=symbol_id):
            open_rows[row.timeframe].append(row)
    got = _Collected(min_quality=settings.signal_min_quality)
    for index, tf in enumerate(settings.timeframes):
        _scan_timeframe(target, got, index, tf, progress.get(tf), open_rows.get(tf, []))
    with phases("write"):
        upsert_patterns(connection, got.new_rows)
        update_lifecycles(connection, got.changed)
    signal_ids, signals_closed = _signals(target, got)
    with phases("write"):
        record_events(connection, got.events)
    return SymbolScan(
        symbol_id,
        symbol,
        candles=0 if got.base is None else len(got.base),
        zones_new=len(got.new_rows),
        zones_closed=got.closed,
        signals_new=len(signal_ids),
        signals_closed=signals_closed,
        signal_ids=tuple(signal_ids),
        signal_lines=tuple(got.signal_lines),
    )


def _scan_timeframe(
    target: _Target,
    got: _Collected,
    index: int,
    tf: str,
    previous: ScanProgress | None,
    olds: list[OpenPattern],
) -> None:
    """Consume ``tf``'s candles closed since the last scan: detect, advance, collect."""
    settings, phases = target.settings, target.phases
    since = previous.scanned_through if previous else None
    old_states = [stored_zone_state(r, consumed_through=since) for r in olds]
    stored = _new_candles(target, got, tf, since)
    if tf == settings.base_timeframe:
        got.base_through = int(stored.open_time[-1]) if len(stored.open_time) else since
    if len(stored.open_time) == 0:
        for row, state in zip(olds, old_states, strict=True):
            got.add(index, row.key, state, row.strength, row.quality_probability)
        return
    candles = as_candles(stored)
    through = int(candles.open_time[-1])
    last = {
        name: float(getattr(candles, name)[-1])
        for name in ("open", "high", "low", "close", "volume")
    }
    got.events.append(
        scan_events.candles_closed(
            target.symbol_id, tf, through=through, count=len(candles), last=last
        )
    )
    with phases("detect"):
        saved = previous.detector_state if previous else None
        det = state_from_dict(saved) if saved else initial_state(tf)
        if tf == settings.base_timeframe:
            assert det.atr is not None
            got.base = candles
            got.base_atr = wilder_atr(candles.high, candles.low, candles.close, det.atr)[0]
        det, zones = detect_incremental(det, candles)
    with phases("lifecycle"):
        new_states = [ZoneState.open(z, tf) for z in zones]
        advanced = advance_zones([*old_states, *new_states], candles, tf)
    with phases("quality"):
        quality = score_new_zones(
            target.connection, settings, symbol_id=target.symbol_id, timeframe=tf,
            zones=zones, new_candles=candles, model=target.model,
        )  # fmt: skip
    _collect_changes(target, got, index, olds, old_states, advanced[: len(olds)])
    _collect_new(target, got, index, tf, zones, advanced[len(olds) :], quality)
    with phases("write"):
        moved = advance_scan_state(
            target.connection,
            symbol_id=target.symbol_id,
            previous=previous,
            timeframe=tf,
            scanned_through=through,
            detector_state=state_to_dict(det),
        )
    if not moved:
        raise _LostRace(target.symbol)


def _new_candles(target: _Target, got: _Collected, tf: str, since: int | None) -> Candles:
    base_ms = timeframe_ms(target.settings.base_timeframe)
    if not _may_have_new(tf, since, got.base_through, base_ms):
        return no_candles()
    with target.phases("load"):
        return load_candles_after(
            target.connection, symbol_id=target.symbol_id, timeframe=tf, after=since
        )


def _collect_changes(
    target: _Target,
    got: _Collected,
    index: int,
    olds: list[OpenPattern],
    befores: list[ZoneState],
    afters: list[ZoneState],
) -> None:
    """Stored zones the new candles moved: their new lifecycle and a zone_changed event for
    each step they took."""
    for row, before, after in zip(olds, befores, afters, strict=True):
        if after != before:
            got.changed.append({"id": row.id, **lifecycle_values(after)})
            got.closed += not after.status.is_open
            got.events += scan_events.zone_changed(
                target.symbol_id, row.id, row.timeframe, before, after
            )
        got.add(index, row.key, after, row.strength, row.quality_probability)


def _collect_new(
    target: _Target,
    got: _Collected,
    index: int,
    tf: str,
    zones: Sequence[Zone],
    states: Sequence[ZoneState],
    quality: Sequence[Quality],
) -> None:
    """Zones formed among the new candles: their rows and a zone_formed event each (with
    the status they already reached, so a zone formed and filled at once is one event)."""
    for zone, state, scored in zip(zones, states, quality, strict=True):
        got.new_rows.append(new_pattern_row(target.symbol_id, tf, zone, state, scored))
        got.closed += not state.status.is_open
        key = (tf, zone.pattern_type.value, zone.direction.value, zone.formed_at)
        got.add(index, key, state, zone.strength, scored[0])
        got.events.append(scan_events.zone_formed(target.symbol_id, tf, zone, state))


def _signals(target: _Target, got: _Collected) -> tuple[list[int], int]:
    """Find new signals and track open ones; returns the new signals' ids and how many
    signals closed."""
    base = got.base
    if base is None:
        return [], 0
    connection, settings, symbol_id = target.connection, target.settings, target.symbol_id
    # The administrators' overrides (runtime settings) on the environment's rules.
    params: SignalParams = load_runtime(connection).signal_params(settings.signal_params())
    step = timeframe_ms(settings.base_timeframe)
    finer = StoredFinerCandles(connection, symbol_id, settings.base_timeframe)
    with target.phases("signals"):
        last = last_signal_times(connection, symbol_id=symbol_id)
        drafts = find_signals(
            got.book.build(),
            Steps(time=base.open_time + step, close=base.close, atr=got.base_atr),
            settings.timeframes,
            params,
            {Direction(d): t for d, t in last.items()},
        )
    with target.phases("outcomes"):
        ttl, hold = params.entry_ttl_ms, params.max_hold_ms
        closed = 0
        updates = []
        for row in load_open_signals(connection, symbol_id=symbol_id):
            before = stored_trade(row, entry_ttl_ms=ttl, max_hold_ms=hold)
            after = track(before, base, step, finer)
            if after != before:
                updates.append({"id": row.id, **outcome_values(after)})
                closed += not after.is_open
        store_outcomes(connection, updates)
        rows = []
        for draft in drafts:
            trade = track(draft_trade(draft, entry_ttl_ms=ttl, max_hold_ms=hold), base, step, finer)
            closed += not trade.is_open
            rows.append(signal_row(draft, trade))
    with target.phases("write"):
        keys: list[PatternKey] = got.book.keys
        wanted = sorted({keys[r] for d in drafts for r in d.zone_refs})
        ids = pattern_ids(connection, symbol_id=symbol_id, keys=wanted)
        signal_ids = insert_signals(
            connection,
            symbol_id=symbol_id,
            rows=rows,
            pattern_ids=[[ids[keys[r]] for r in d.zone_refs if keys[r] in ids] for d in drafts],
        )
    for signal_id, values, draft in zip(signal_ids, rows, drafts, strict=True):
        types = [keys[r][1] for r in draft.zone_refs]
        got.events.append(scan_events.signal_created(symbol_id, signal_id, values, types))
        got.signal_lines.append(signal_line(target.symbol, signal_id, values))
    return signal_ids, closed


def scan_all_stored(
    engine: Engine,
    settings: Settings,
    *,
    symbols: list[str] | None = None,
    phases: Phases | None = None,
) -> list[SymbolScan]:
    """Scan the stored candles of every active symbol (or ``symbols``), one by one."""
    phases = phases or Phases()
    watched = watched_symbols(engine, settings, symbols)
    return [
        scan_stored(engine, settings, symbol_id=sid, symbol=name, phases=phases)
        for sid, name in watched
    ]


async def scan_cycle_async(
    engine: Engine,
    settings: Settings,
    *,
    symbols: list[str] | None = None,
    client: ExchangeClient | None = None,
) -> ScanReport:
    """Ingest newly closed candles, then scan every active symbol (or ``symbols``).

    Pass a ``client`` to keep one exchange connection (and its loaded markets) across cycles.
    """
    phases = Phases()
    with phases("ingest"):
        if client is None:
            async with exchange_client(settings) as own:
                ingest = await ingest_cycle(engine, settings, own, symbols=symbols)
        else:
            ingest = await ingest_cycle(engine, settings, client, symbols=symbols)
    scanned = scan_all_stored(engine, settings, symbols=symbols, phases=phases)
    return ScanReport(scanned, ingest, dict(phases.seconds))


def scan_cycle(
    engine: Engine, settings: Settings, *, symbols: list[str] | None = None
) -> ScanReport:
    """Synchronous ``scan_cycle_async`` for jobs and the CLI."""
    return asyncio.run(scan_cycle_async(engine, settings, symbols=symbols))
