"""Replay of the live scanner over one symbol's base candles, with the scanner's own pure calls.

The scanner (``services/scanning/scan.py``) consumes stored candles per timeframe, shortest
first: detection resumed from the timeframe's detector state (``detect_incremental``), the
lifecycle of the zones (``advance_zones``), one zone book across timeframes
(``signals.book.BookBuilder``), ``find_signals`` at every base close with the base ATR, and
``track`` for each signal's outcome (``draft_trade`` to start it). Its catch-up guarantee (a
scan after downtime ends where a scanner that never stopped would be) makes one pass over the
whole history equal to the live sequence of scans, and this module makes that pass with the
columnar forms of the same code: ``detect`` is the incremental run from the empty state,
``run_lifecycle`` the ``advance_columns`` fold ``advance_zones`` wraps, and the book's columns
follow ``BookBuilder``'s rule. Higher timeframes come from ``market.aggregate.aggregate_all``,
the function ingestion stores them with (a pure module; the import contract names it as the
single allowed exception). ``tests/backtest/test_sameness.py`` proves the sameness.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cryptolens.detect import (
    DEFAULT_PARAMS,
    Candles,
    DetectionParams,
    Detections,
    LifecycleColumns,
    as_candles,
    detect,
    initial_state,
    run_lifecycle,
    wilder_atr,
)
from cryptolens.detect.lifecycle import NONE
from cryptolens.detect.zones import PATTERNS
from cryptolens.domain.enums import Direction, PatternType
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import TIMEFRAME_MS, parse_timeframes, timeframe_ms
from cryptolens.market.aggregate import aggregate_all
from cryptolens.quality.features import build_dataset
from cryptolens.quality.walkforward import walk_forward_probabilities
from cryptolens.signals import (
    DEFAULT_SIGNAL_PARAMS,
    FinerCandles,
    SignalDraft,
    SignalParams,
    Steps,
    Trade,
    ZoneBook,
    find_signals,
)
from cryptolens.signals.book import ZoneKey
from cryptolens.signals.outcome import Tracking, draft_trade
from cryptolens.signals.quality_gate import counting

FloatArray = npt.NDArray[np.float64]


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


@dataclass(frozen=True, slots=True, eq=False)
class Prepared:
    """What replay computes once per symbol and detection parameters: every timeframe's
    candles, the zone book with each zone's pattern, and the base steps with their ATR.

    Signal parameters and a pattern filter only change what ``replay_signals`` does with it,
    so a sweep over them prepares once and reuses this object."""

    base_timeframe: str
    timeframes: tuple[str, ...]
    base: Candles
    candles: Mapping[str, Candles]
    detection: DetectionParams
    #: Every zone of every timeframe (``ref`` is the zone's row).
    book: ZoneBook
    #: Index into ``detect.zones.PATTERNS`` of each zone, by row.
    patterns: npt.NDArray[np.int64]
    steps: Steps
    columns: _ZoneColumns
    #: Each zone's walk-forward probability of holding, computed on first use (by row).
    quality: list[FloatArray] = field(default_factory=list)

    @property
    def zones(self) -> int:
        return len(self.book)

    def quality_probability(self) -> FloatArray:
        """P(held) of every zone from models trained only on zones whose verdict was known
        before it formed (``quality.walkforward``); NaN before the first model."""
        if not self.quality:
            data = build_dataset(self.columns.detections(), self.candles)
            self.quality.append(walk_forward_probabilities(data))
        return self.quality[0]


def prepare(
    base: Candles,
    *,
    base_timeframe: str,
    timeframes: Sequence[str],
    detection: DetectionParams = DEFAULT_PARAMS,
    now_ms: int | None = None,
) -> Prepared:
    """Aggregation, detection, lifecycle and the zone book of ``base`` (closed base candles):
    the part of ``replay`` that signal parameters do not change.

    Raises ValidationError for bad candles or timeframes."""
    base = as_candles(base)
    names = check_timeframes(base_timeframe, timeframes)
    if len(base) == 0:
        raise ValidationError("no base candles to replay")
    candles = timeframe_candles(base, base_timeframe, names, now_ms=now_ms)
    book = _ZoneColumns()
    base_atr: FloatArray | None = None
    for index, tf in enumerate(names):
        tf_candles = candles[tf]
        det = initial_state(tf, detection)
        if tf == base_timeframe:
            assert det.atr is not None
            base_atr = wilder_atr(tf_candles.high, tf_candles.low, tf_candles.close, det.atr)[0]
        if len(tf_candles):
            found = detect(tf_candles, tf, detection)
            book.add(index, tf, found, run_lifecycle(found, tf_candles, tf))
    assert base_atr is not None
    step = timeframe_ms(base_timeframe)
    return Prepared(
        base_timeframe=base_timeframe,
        timeframes=names,
        base=base,
        candles=candles,
        detection=detection,
        book=book.build(),
        patterns=book.patterns(),
        steps=Steps(time=base.open_time + step, close=base.close, atr=base_atr),
        columns=book,
    )


def replay_signals(
    prepared: Prepared,
    signals: SignalParams = DEFAULT_SIGNAL_PARAMS,
    *,
    patterns: Collection[PatternType] | None = None,
    finer: FinerCandles | None = None,
) -> Replay:
    """``find_signals`` and ``track`` over a prepared history: the signals and outcomes the
    scanner would store. ``patterns`` keeps only zones of those pattern types (None: all),
    as if the others had never been detected; ``finer`` settles a candle that reaches both a
    stop and a target."""
    drafts = find_drafts(prepared, signals, patterns=patterns)
    return track_drafts(
        prepared, drafts, signals, finer=finer, zones=_zone_count(prepared, patterns)
    )


def find_drafts(
    prepared: Prepared,
    signals: SignalParams = DEFAULT_SIGNAL_PARAMS,
    *,
    patterns: Collection[PatternType] | None = None,
) -> list[SignalDraft]:
    """``find_signals`` at every base close, over the zones of ``patterns`` (None: all)."""
    book = _book(prepared, patterns, signals.min_quality)
    return find_signals(book, prepared.steps, prepared.timeframes, signals, {})


def track_drafts(
    prepared: Prepared,
    drafts: Sequence[SignalDraft],
    signals: SignalParams = DEFAULT_SIGNAL_PARAMS,
    *,
    finer: FinerCandles | None = None,
    zones: int | None = None,
) -> Replay:
    """Each draft's trade (entry TTL and maximum hold from ``signals``) tracked to its
    outcome; ``zones`` is the count reported (default: every prepared zone)."""
    base = prepared.base
    step = timeframe_ms(prepared.base_timeframe)
    ttl, hold = signals.entry_ttl_ms, signals.max_hold_ms
    out = []
    bearish = (-base.low, -base.high)
    for draft in drafts:
        trade = draft_trade(draft, entry_ttl_ms=ttl, max_hold_ms=hold)
        outcome = track_events(trade, base, step, finer, bearish=bearish)
        out.append(ReplayedSignal(draft, prepared.columns.keys(draft.zone_refs), outcome))
    return Replay(
        prepared.base_timeframe,
        prepared.timeframes,
        base,
        prepared.candles,
        tuple(out),
        prepared.zones if zones is None else zones,
    )


def _book(
    prepared: Prepared, patterns: Collection[PatternType] | None, min_quality: float = 0.0
) -> ZoneBook:
    """The zones that count: of ``patterns`` (None: all) and, with ``min_quality``, whose
    walk-forward probability of holding reaches it (``signals.quality_gate``)."""
    if patterns is None and min_quality <= 0:
        return prepared.book
    keep = np.ones(prepared.zones, dtype=bool)
    if patterns is not None:
        codes = [PATTERNS.index(PatternType(p)) for p in patterns]
        keep &= np.isin(prepared.patterns, codes)
    if min_quality > 0:
        keep &= counting(prepared.quality_probability(), min_quality)
    return prepared.book.take(np.flatnonzero(keep))


def _zone_count(prepared: Prepared, patterns: Collection[PatternType] | None) -> int:
    if patterns is None:
        return prepared.zones
    codes = [PATTERNS.index(PatternType(p)) for p in patterns]
    return int(np.isin(prepared.patterns, codes).sum())


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
    """Signals and outcomes the scanner would store for ``base`` (closed base candles):
    ``prepare`` then ``replay_signals``.

    ``finer`` settles a candle that reaches both a stop and a target, as stored finer
    candles do live; ``now_ms`` is the exchange clock at the end (default: the last close).
    Raises ValidationError for bad candles or timeframes.
    """
    prepared = prepare(
        base,
        base_timeframe=base_timeframe,
        timeframes=timeframes,
        detection=detection,
        now_ms=now_ms,
    )
    return replay_signals(prepared, signals, finer=finer)


def track_events(
    trade: Trade,
    base: Candles,
    step: int,
    finer: FinerCandles | None = None,
    *,
    bearish: tuple[FloatArray, FloatArray] | None = None,
) -> Trade:
    """``track(trade, base, step, finer)``, folding only the candles that can change the trade.

    Under ``track``'s rules a candle changes a pending trade only if it reaches the entry or
    opens at the order's expiry, and a filled one only if it reaches the active stop or the
    next target or is the first candle at the maximum hold; every other candle only moves
    ``tracked_through``. So each step searches (vectorised) for the next such candle given
    the trade's state and folds it alone with ``track``; the candle before the expiry and
    the last candle are folded too, so ``tracked_through`` ends where a full fold leaves it.
    ``bearish`` is ``(-low, -high)`` of ``base``, precomputed when many trades are tracked.
    """
    times = base.open_time
    n = len(base)
    if not trade.is_open or n == 0:
        return trade
    at = int(np.searchsorted(times, trade.created_at, side="left"))
    bullish = trade.direction is Direction.BULLISH
    if bullish:
        favourable, adverse = base.high, base.low
    else:
        favourable, adverse = bearish or (-base.low, -base.high)
    sign = 1.0 if bullish else -1.0
    fold = Tracking(trade)
    while fold.is_open and at < n:
        if fold.triggered_at is None:
            end = min(n, int(np.searchsorted(times, fold.expires_at, side="left")))
            j = _first(adverse, sign * fold.entry, None, 0.0, at, end)
            if j == end < n:  # expired: fold the candle before it too
                j = max(at, j - 1)
        else:
            moment = fold.triggered_at + fold.max_hold_ms - step
            timeout = int(np.searchsorted(times, moment, side="left"))
            end = min(n, timeout + 1)
            stop = fold.stop if fold.targets_hit == 0 else fold.entry
            target = fold.targets[fold.targets_hit]
            j = _first(adverse, sign * stop, favourable, sign * target, at, end)
            j = min(j, timeout)
        if j >= n:
            j = n - 1
        count = (
            2 if fold.triggered_at is None and j + 1 < n and times[j + 1] >= fold.expires_at else 1
        )
        _fold(fold, base, j, min(n, j + count), step, finer)
        at = j + count
    if fold.is_open:
        _fold(fold, base, n - 1, n, step, finer)
    return fold.trade()


def _fold(
    fold: Tracking, base: Candles, begin: int, end: int, step: int, finer: FinerCandles | None
) -> None:
    """``track`` over ``base[begin:end]``: candles before the trade's next one are skipped."""
    first = fold.first_open()
    for k in range(begin, end):
        open_time = int(base.open_time[k])
        if open_time < first:
            continue
        high, low, close = float(base.high[k]), float(base.low[k]), float(base.close[k])
        fold.candle(open_time, open_time + step, high, low, close, finer)
        if not fold.is_open:
            return


def _first(
    adverse: FloatArray,
    stop: float,
    favourable: FloatArray | None,
    target: float,
    begin: int,
    end: int,
) -> int:
    """First index in [begin, end) whose adverse extreme reaches ``stop`` or favourable one
    reaches ``target`` (signed space), else ``end``."""
    at, block = begin, 64
    while at < end:
        upto = min(end, at + block)
        hit = adverse[at:upto] <= stop
        if favourable is not None:
            hit |= favourable[at:upto] >= target
        first = int(hit.argmax())  # the first True, or 0 when there is none
        if hit[first]:
            return at + first
        at, block = upto, block * 4
    return end


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


class _ZoneColumns:
    """Every timeframe's zones as one ``ZoneBook``, built from the detections' columns the
    way the scanner's ``BookBuilder`` builds it from zone states (ends at the first of
    filled, invalidated, expired or the scheduled expiry)."""

    def __init__(self) -> None:
        self._parts: list[tuple[int, str, Detections, LifecycleColumns]] = []
        self._count = 0
        self._key_columns: tuple[list[str], list[int], list[bool], list[int]] | None = None

    def __len__(self) -> int:
        return self._count

    def add(self, tf_index: int, tf: str, found: Detections, life: LifecycleColumns) -> None:
        self._parts.append((tf_index, tf, found, life))
        self._count += len(found)

    def keys(self, refs: Sequence[int]) -> tuple[ZoneKey, ...]:
        """The scanner's keys of the zones with references ``refs``."""
        if self._key_columns is None:
            parts = self._parts
            self._key_columns = (
                [tf for _, tf, found, _ in parts for _ in range(len(found))],
                np.concatenate([found.pattern for _, _, found, _ in parts]).tolist(),
                np.concatenate([found.bullish for _, _, found, _ in parts]).tolist(),
                np.concatenate([found.formed_at for _, _, found, _ in parts]).tolist(),
            )
        tfs, patterns, bullish, formed = self._key_columns
        return tuple(
            (
                tfs[r],
                PATTERNS[patterns[r]].value,
                (Direction.BULLISH if bullish[r] else Direction.BEARISH).value,
                formed[r],
            )
            for r in refs
        )

    def detections(self) -> list[tuple[str, Detections]]:
        """Each timeframe's detections, shortest timeframe first (book rows in this order)."""
        return [(tf, found) for _, tf, found, _ in self._parts]

    def patterns(self) -> npt.NDArray[np.int64]:
        """Each zone's pattern code (index into ``PATTERNS``), by row."""
        codes = [found.pattern for _, _, found, _ in self._parts]
        return np.concatenate(codes).astype(np.int64) if codes else np.empty(0, np.int64)

    def build(self) -> ZoneBook:
        columns: dict[str, list[Any]] = {name: [] for name in _BOOK}
        for tf_index, _, found, life in self._parts:
            ends = life.expires_at
            for moment in (life.filled_at, life.invalidated_at, life.expired_at):
                ends = np.where(moment != NONE, np.minimum(ends, moment), ends)
            columns["tf_index"].append(np.full(len(found), tf_index, dtype=np.int64))
            columns["bullish"].append(life.bullish)
            columns["zone_low"].append(life.zone_low)
            columns["zone_high"].append(life.zone_high)
            columns["formed_at"].append(life.formed_at)
            columns["ends_at"].append(ends)
            columns["strength"].append(found.strength)
        joined = {
            name: np.concatenate(parts) if parts else np.empty(0, dtype=_BOOK[name])
            for name, parts in columns.items()
        }
        return ZoneBook(
            ref=np.arange(self._count, dtype=np.int64),
            **{name: values.astype(_BOOK[name], copy=False) for name, values in joined.items()},
        )


_BOOK: dict[str, Any] = {
    "tf_index": np.int64,
    "bullish": np.bool_,
    "zone_low": np.float64,
    "zone_high": np.float64,
    "formed_at": np.int64,
    "ends_at": np.int64,
    "strength": np.float64,
}
