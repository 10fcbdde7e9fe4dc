"""Replay of the live scanner over one symbol's base candles, with the scanner's own pure calls.

The scanner (``services/scanning/scan.py``) consumes stored candles per timeframe, shortest
first: ``detect_incremental`` from the timeframe's detector state, the lifecycle of the new
zones (``advance_zones``), one zone book across timeframes, ``find_signals`` at every base
close with the base ATR, and ``track`` for each signal's outcome. Its catch-up guarantee (a
scan after downtime ends where a scanner that never stopped would be) makes one pass over
the whole history equal to the live sequence of scans; this module makes that one pass.
Higher timeframes come from ``market.aggregate.aggregate_all``, the function ingestion stores
them with (a pure module; the import contract names it as the single allowed exception).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cryptolens.detect import (
    DEFAULT_PARAMS,
    Candles,
    DetectionParams,
    ZoneState,
    advance_zones,
    as_candles,
    detect_incremental,
    initial_state,
    wilder_atr,
)
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import TIMEFRAME_MS, parse_timeframes, timeframe_ms
from cryptolens.market.aggregate import aggregate_all
from cryptolens.signals import (
    DEFAULT_SIGNAL_PARAMS,
    FinerCandles,
    SignalDraft,
    SignalParams,
    Steps,
    Trade,
    find_signals,
    track,
)
from cryptolens.signals.book import BookBuilder, ZoneKey
from cryptolens.signals.outcome import draft_trade


@dataclass(frozen=True, slots=True)
class ReplayedSignal:
    """A signal as the scanner stores it: the draft, its zones and its tracked outcome."""

    draft: SignalDraft
    zones: tuple[ZoneKey, ...]
    outcome: Trade


@dataclass(frozen=True, slots=True)
class Replay:
    """What the live pipeline decides over one symbol's history."""

    base_timeframe: str
    timeframes: tuple[str, ...]
    base: Candles
    #: The candles of every timeframe, as ingestion stores them (the base included).
    candles: Mapping[str, Candles]
    signals: tuple[ReplayedSignal, ...]
    zones: int


def check_timeframes(base_timeframe: str, timeframes: Sequence[str]) -> tuple[str, ...]:
    """The timeframes, base included, shortest first, as the settings validate them."""
    base_ms = timeframe_ms(base_timeframe)
    names = parse_timeframes((*timeframes, base_timeframe))
    for name in names:
        ms = TIMEFRAME_MS[name]
        if ms < base_ms or ms % base_ms:
            raise ValidationError(
                f"timeframes: {name} is not a multiple of the base timeframe {base_timeframe}"
            )
    return names


def timeframe_candles(
    base: Candles, base_timeframe: str, timeframes: Sequence[str], *, now_ms: int | None = None
) -> dict[str, Candles]:
    """Every timeframe's closed candles, aggregated from the base as ingestion does."""
    higher = [tf for tf in timeframes if tf != base_timeframe]
    built = aggregate_all(base, base_timeframe=base_timeframe, targets=higher, now_ms=now_ms)
    out = {base_timeframe: base}
    out.update({tf: agg.as_candles() for tf, agg in built.items()})
    return {tf: out[tf] for tf in timeframes}


def replay(
    base: Candles,
    *,
    base_timeframe: str,
    timeframes: Sequence[str],
    detection: DetectionParams = DEFAULT_PARAMS,
    signals: SignalParams = DEFAULT_SIGNAL_PARAMS,
    finer: FinerCandles | None = None,
    now_ms: int | None = None,
) -> Replay:
    """Signals and outcomes the scanner would store for ``base`` (closed base candles).

    ``finer`` settles a candle that reaches both a stop and a target, as stored finer
    candles do live; ``now_ms`` is the exchange clock at the end (default: the last close).
    Raises ValidationError for bad candles or timeframes.
    """
    base = as_candles(base)
    names = check_timeframes(base_timeframe, timeframes)
    if len(base) == 0:
        raise ValidationError("no base candles to replay")
    candles = timeframe_candles(base, base_timeframe, names, now_ms=now_ms)
    book = BookBuilder()
    base_atr: npt.NDArray[np.float64] | None = None
    for index, tf in enumerate(names):
        tf_candles = candles[tf]
        det = initial_state(tf, detection)
        if tf == base_timeframe:
            assert det.atr is not None
            base_atr = wilder_atr(tf_candles.high, tf_candles.low, tf_candles.close, det.atr)[0]
        if len(tf_candles) == 0:
            continue
        det, zones = detect_incremental(det, tf_candles)
        states = advance_zones([ZoneState.open(z, tf) for z in zones], tf_candles, tf)
        for zone, state in zip(zones, states, strict=True):
            key = (tf, zone.pattern_type.value, zone.direction.value, zone.formed_at)
            book.add(index, key, state, zone.strength)
    assert base_atr is not None
    step = timeframe_ms(base_timeframe)
    drafts = find_signals(
        book.build(),
        Steps(time=base.open_time + step, close=base.close, atr=base_atr),
        names,
        signals,
        {},
    )
    out = []
    for draft in drafts:
        ttl, hold = signals.entry_ttl_ms, signals.max_hold_ms
        outcome = track(draft_trade(draft, entry_ttl_ms=ttl, max_hold_ms=hold), base, step, finer)
        keys = tuple(book.keys[r] for r in draft.zone_refs)
        out.append(ReplayedSignal(draft, keys, outcome))
    return Replay(base_timeframe, names, base, candles, tuple(out), len(book.keys))


def finer_lookup(candles: Candles, step_ms: int) -> FinerCandles:
    """Finer candles (e.g. stored 1m under a 5m base) answering as the scanner's lookup does:
    only when every finer candle of the coarse one is present."""
    finer = as_candles(candles)

    def lookup(open_time: int, span_ms: int) -> tuple[Candles, int] | None:
        lo, hi = np.searchsorted(finer.open_time, [open_time, open_time + span_ms], side="left")
        if hi - lo != span_ms // step_ms:
            return None
        return finer[int(lo) : int(hi)], step_ms

    return lookup
