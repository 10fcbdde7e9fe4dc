"""Parameter sweeps and the walk-forward loop over the backtest.

A sweep tries combinations of named parameters (``SWEEP_PARAMS``: signal rules, the pattern
types that may form confluence, execution costs and sizing), backtests each and ranks them by
one metric (``RANKING``). Everything is validated before any work: unknown names, values out
of range, combinations the signal rules refuse, and more combinations than the limit
(``walkforward.MAX_COMBINATIONS``) are a ValidationError.

Work is shared at three levels. Detection (aggregation, detection, lifecycle, the zone book)
is prepared once per symbol, detection parameters and end of data (``PrepareCache``): no
sweep parameter changes it, a pattern filter only hides zones. ``find_signals`` runs once per
rule set that decides when signals fire (confluence, higher timeframe, cooldown, proximity,
pattern types); the stop buffer and targets only re-level its drafts (``relevel``, equal to
drafting with them). Outcomes are tracked once per signal parameters and pattern filter, so
combinations differing only in execution (fees, slippage, sizing, limits) only trade again.

Scoring a window ``[start, end)`` trades only signals created in it, and its metrics are the
ones a single run reports (``report.py``): one point per base bar, the account marked to
market (a single symbol; realised equity with several), so a sweep's Sharpe ratio for a
combination is the one a run with those parameters shows. A trade still open at the end of
the data is closed there, as the engine does.

Walk-forward (``run_walk_forward``): for each split the in-sample sweep sees only candles that
close by ``in_end`` (the bases are sliced, so nothing later can leak in) and scores signals
created in ``[in_start, in_end)``; the best combination is then replayed on candles that close
by ``out_end`` and scored on signals created in ``[out_start, out_end)``. Earlier candles are
history the live scanner would have had (zones formed before the window still count). A
divergence warning flags an out-of-sample result that falls apart from the in-sample one.
The stitched out-of-sample summary chains the windows' equity curves (each window starts
from the previous one's final equity, as a fraction) and pools their trades; it needs
out-of-sample windows that do not overlap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from cryptolens.backtest.engine import BacktestResult, trade_replays
from cryptolens.backtest.execution import DEFAULT_EXECUTION, ExecutionModel
from cryptolens.backtest.metrics import Metrics
from cryptolens.backtest.replay import (
    Prepared,
    Replay,
    check_timeframes,
    find_drafts,
    prepare,
    track_drafts,
)
from cryptolens.backtest.report import BarEquity, bar_equity, report_metrics
from cryptolens.backtest.sweep_space import (
    EXTRA_PARAMS as EXTRA_PARAMS,
)
from cryptolens.backtest.sweep_space import (
    MAX_WALK_FORWARD_RUNS as MAX_WALK_FORWARD_RUNS,
)
from cryptolens.backtest.sweep_space import (
    PATTERN_SEPARATOR as PATTERN_SEPARATOR,
)
from cryptolens.backtest.sweep_space import (
    RANKING as RANKING,
)
from cryptolens.backtest.sweep_space import (
    SWEEP_PARAMS as SWEEP_PARAMS,
)
from cryptolens.backtest.sweep_space import (
    TARGET_SEPARATOR as TARGET_SEPARATOR,
)
from cryptolens.backtest.sweep_space import (
    Mode as Mode,
)
from cryptolens.backtest.sweep_space import (
    Progress as Progress,
)
from cryptolens.backtest.sweep_space import (
    Setup as Setup,
)
from cryptolens.backtest.sweep_space import (
    SweepParam as SweepParam,
)
from cryptolens.backtest.sweep_space import (
    apply_combination as apply_combination,
)
from cryptolens.backtest.sweep_space import (
    check_metric as check_metric,
)
from cryptolens.backtest.sweep_space import (
    check_space as check_space,
)
from cryptolens.backtest.sweep_space import (
    combinations as combinations,
)
from cryptolens.backtest.sweep_space import (
    parse_space as parse_space,
)
from cryptolens.backtest.walkforward import (
    MAX_COMBINATIONS,
    ParamSpace,
    Value,
)
from cryptolens.detect import DEFAULT_PARAMS, Candles, DetectionParams, as_candles
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.signals import DEFAULT_SIGNAL_PARAMS, SignalDraft, SignalParams, signal_levels


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """What a sweep tries and how it backtests each combination: the space and how its
    combinations are chosen, the ranking metric, the timeframes, and the detection, signal
    and execution parameters the combinations change. Checked on creation (a ValidationError
    for an unknown metric or bad timeframes); the space is checked, and the
    combinations counted against ``limit``, by ``setups()`` before any backtest."""

    space: ParamSpace
    base_timeframe: str
    timeframes: Sequence[str]
    metric: str = "sharpe"
    mode: Mode = "grid"
    #: Combinations drawn in random mode.
    count: int | None = None
    seed: int = 0
    limit: int = MAX_COMBINATIONS
    detection: DetectionParams = DEFAULT_PARAMS
    signals: SignalParams = DEFAULT_SIGNAL_PARAMS
    execution: ExecutionModel = DEFAULT_EXECUTION

    def __post_init__(self) -> None:
        check_metric(self.metric)
        check_timeframes(self.base_timeframe, self.timeframes)

    def setups(self) -> list[tuple[dict[str, Value], Setup]]:
        """Every combination to try with what the backtest takes for it."""
        tried = combinations(
            self.space, mode=self.mode, count=self.count, seed=self.seed, limit=self.limit
        )
        return [(c, self.apply(c)) for c in tried]

    def apply(self, combination: Mapping[str, Value]) -> Setup:
        return apply_combination(combination, signals=self.signals, execution=self.execution)


# -- preparing and scoring -------------------------------------------------------------------


class PrepareCache:
    """Prepared histories per (symbol, detection parameters, end of data), so detection runs
    once whatever the number of combinations. ``prepares`` counts the detections run."""

    def __init__(self) -> None:
        self._items: dict[
            tuple[str, int, DetectionParams, int | None], tuple[Candles, Prepared | None]
        ]
        self._items = {}
        self.prepares = 0

    def get(
        self,
        symbol: str,
        base: Candles,
        *,
        base_timeframe: str,
        timeframes: Sequence[str],
        detection: DetectionParams = DEFAULT_PARAMS,
        end: int | None = None,
    ) -> Prepared | None:
        """``base`` cut to candles closing by ``end`` (all when None), prepared once; None
        when no candle closes by ``end`` (the symbol has no history yet)."""
        key = (symbol, id(base), detection, end)
        found = self._items.get(key)
        if found is not None and found[0] is base:
            return found[1]
        cut = base
        if end is not None:
            step = timeframe_ms(base_timeframe)
            cut = base[: int(np.searchsorted(base.open_time, end - step, side="right"))]
        if len(cut) == 0:
            return None
        prepared = prepare(
            cut, base_timeframe=base_timeframe, timeframes=timeframes, detection=detection
        )
        self.prepares += 1
        self._items[key] = (base, prepared)
        return prepared


@dataclass(frozen=True, slots=True)
class Scored:
    """One backtest of one combination over one window."""

    params: dict[str, Value]
    metrics: Metrics
    #: The ranking metric's value (None when undefined, ranked last).
    score: float | None
    result: BacktestResult


@dataclass(frozen=True, slots=True)
class SweepRow:
    rank: int
    params: dict[str, Value]
    score: float | None
    metrics: Metrics

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready row: rank, params, score and every metric."""
        return {
            "rank": self.rank,
            "params": dict(self.params),
            "score": self.score,
            "metrics": asdict(self.metrics),
        }


@dataclass(frozen=True, slots=True)
class SweepResult:
    metric: str
    #: Best first; ties keep the order the combinations were tried in.
    rows: tuple[SweepRow, ...]
    #: Detections run (one per symbol when nothing was cached before).
    prepares: int
    #: Distinct ``find_signals`` runs per symbol: combinations differing only in the stop
    #: buffer, targets, entry TTL, maximum hold or execution share one.
    signal_runs: int

    @property
    def best(self) -> SweepRow:
        return self.rows[0]


class _Runner:
    """Backtests combinations over windows, sharing prepared histories and signals."""

    def __init__(self, bases: Mapping[str, Candles], spec: SweepSpec, cache: PrepareCache) -> None:
        self.bases = bases
        self.spec = spec
        self.cache = cache
        self._found: dict[object, list[SignalDraft]] = {}
        self._tracked: dict[object, Mapping[str, Replay]] = {}

    @property
    def signal_runs(self) -> int:
        """Distinct ``find_signals`` runs (per symbol and end of data)."""
        return len(self._found)

    def _drafts(self, symbol: str, prepared: Prepared, setup: Setup, end: int) -> list[SignalDraft]:
        """The drafts of ``setup``: found once per rule set that decides when signals fire,
        then given the levels of ``setup``'s stop buffer and targets."""
        key = (symbol, _finding(setup.signals), setup.patterns, end)
        found = self._found.get(key)
        if found is None:
            found = find_drafts(prepared, key[1], patterns=setup.patterns)
            self._found[key] = found
        if key[1] == replace(
            setup.signals, entry_ttl_ms=key[1].entry_ttl_ms, max_hold_ms=key[1].max_hold_ms
        ):
            return found  # already drafted with these levels
        return relevel(prepared, found, setup.signals)

    def score(self, params: dict[str, Value], setup: Setup, *, start: int, end: int) -> Scored:
        """Trade the signals created in ``[start, end)`` on candles closing by ``end``."""
        key = (setup.signals, setup.patterns, start, end)
        replays = self._tracked.get(key)
        if replays is None:
            replays = {}
            for symbol, base in self.bases.items():
                prepared = self.cache.get(
                    symbol,
                    base,
                    base_timeframe=self.spec.base_timeframe,
                    timeframes=self.spec.timeframes,
                    detection=self.spec.detection,
                    end=end,
                )
                if prepared is None:
                    continue
                drafts = self._drafts(symbol, prepared, setup, end)
                kept = [d for d in drafts if start <= d.created_at < end]
                replays[symbol] = track_drafts(prepared, kept, setup.signals)
            self._tracked[key] = replays
        result = trade_replays(replays, setup.execution)
        step = timeframe_ms(self.spec.base_timeframe)
        metrics = result_metrics(result, start=start, end=end, bar_ms=step)
        value = getattr(metrics, self.spec.metric)
        score = None if value is None else float(value)
        return Scored(params, metrics, score, result)


def _finding(signals: SignalParams) -> SignalParams:
    """``signals`` with the fields ``find_signals`` only uses for levels, and the tracking
    fields it does not use, set to the defaults: equal for rule sets that fire alike."""
    d = DEFAULT_SIGNAL_PARAMS
    return replace(
        signals,
        stop_atr=d.stop_atr,
        stop_min_fraction=d.stop_min_fraction,
        targets_r=d.targets_r,
        entry_ttl_ms=d.entry_ttl_ms,
        max_hold_ms=d.max_hold_ms,
    )


def relevel(
    prepared: Prepared, drafts: Sequence[SignalDraft], signals: SignalParams
) -> list[SignalDraft]:
    """``drafts`` with the entry, stop and targets ``signals`` gives them: what
    ``find_signals`` would have drafted with ``signals`` when only the stop buffer or the
    targets differ (which of the zones fire, and when, does not depend on them)."""
    book = prepared.book
    return [
        replace(
            draft,
            levels=signal_levels(
                draft.direction,
                zone_low=float(book.zone_low[draft.entry_ref]),
                zone_high=float(book.zone_high[draft.entry_ref]),
                price=draft.price,
                atr=draft.atr,
                params=signals,
            ),
        )
        for draft in drafts
    ]


def result_metrics(
    result: BacktestResult, *, start: int, end: int, bar_ms: int | None = None
) -> Metrics:
    """The metrics of a backtest over the base bars of ``[start, end)``, as
    ``report.report_metrics`` computes a run's: one point per base bar (the window's start,
    then every close), a single symbol's account marked to market with buy and hold of its
    price; with several symbols (or none with candles yet), realised equity at every base
    close. ``bar_ms`` is the base timeframe's length (default: the replays')."""
    curve, step = window_equity(result, start=start, end=end, bar_ms=bar_ms)
    return report_metrics(result, curve, step)


def window_equity(
    result: BacktestResult, *, start: int, end: int, bar_ms: int | None = None
) -> tuple[BarEquity, int]:
    """The account's value at the start of ``[start, end)`` and at every base close in it,
    and the bar length (see ``result_metrics``)."""
    if end <= start:
        raise ValidationError("the scoring window must end after it starts")
    replays = list(result.replays.items())
    if bar_ms is None:
        if not replays:
            raise ValidationError("the bar length is needed for a backtest without symbols")
        bar_ms = timeframe_ms(replays[0][1].base_timeframe)
    if len(replays) == 1:
        symbol, replayed = replays[0]
        base = replayed.base
        lo = int(np.searchsorted(base.open_time, start, side="left"))
        hi = int(np.searchsorted(base.open_time, end - bar_ms, side="right"))
        if hi > lo:
            return bar_equity(result, symbol, base[lo:hi], bar_ms), bar_ms
    time = np.concatenate(([start], np.arange(start + bar_ms, end + 1, bar_ms))).astype(np.int64)
    realised = result.equity
    at = np.searchsorted(realised.time, time, side="right") - 1
    equity = realised.equity[np.maximum(at, 0)].astype(np.float64)
    return BarEquity(time, equity, np.empty(0, dtype=np.float64)), bar_ms


def _rank(scored: Sequence[Scored], metric: str) -> tuple[SweepRow, ...]:
    higher = RANKING[metric]

    def key(item: tuple[int, Scored]) -> tuple[int, float, int]:
        index, s = item
        if s.score is None:
            return (1, 0.0, index)
        return (0, -s.score if higher else s.score, index)

    ordered = sorted(enumerate(scored), key=key)
    return tuple(
        SweepRow(rank + 1, s.params, s.score, s.metrics) for rank, (_, s) in enumerate(ordered)
    )


def _span(bases: Mapping[str, Candles], base_timeframe: str) -> tuple[int, int]:
    step = timeframe_ms(base_timeframe)
    starts = [int(b.open_time[0]) for b in bases.values() if len(b)]
    ends = [int(b.open_time[-1]) + step for b in bases.values() if len(b)]
    if not starts:
        raise ValidationError("no base candles to sweep over")
    return min(starts), max(ends)


def _checked_bases(bases: Mapping[str, Candles]) -> dict[str, Candles]:
    if not bases:
        raise ValidationError("no symbols to sweep over")
    return {symbol: as_candles(base) for symbol, base in bases.items()}


def run_sweep(
    bases: Mapping[str, Candles],
    spec: SweepSpec,
    *,
    window: tuple[int, int] | None = None,
    cache: PrepareCache | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Backtest every combination of ``spec`` over ``bases`` (closed base candles per symbol,
    traded as one account) and rank them by its metric, best first.

    ``window`` limits scoring to signals created in ``[start, end)`` on candles closing by
    ``end`` (default: the whole data). ``progress(done, total)`` is called after each
    combination. Raises ValidationError before any backtest for bad input or more
    combinations than the limit."""
    bases = _checked_bases(bases)
    tried = spec.setups()
    start, end = window if window is not None else _span(bases, spec.base_timeframe)
    if end <= start:
        raise ValidationError("the sweep window must end after it starts")
    cache = cache if cache is not None else PrepareCache()
    before = cache.prepares
    runner = _Runner(bases, spec, cache)
    scored = []
    for done, (params, setup) in enumerate(tried, start=1):
        scored.append(runner.score(params, setup, start=start, end=end))
        if progress is not None:
            progress(done, len(tried))
    rows = _rank(scored, spec.metric)
    return SweepResult(spec.metric, rows, cache.prepares - before, runner.signal_runs)


def score_combination(
    bases: Mapping[str, Candles],
    spec: SweepSpec,
    combination: Mapping[str, Value],
    *,
    start: int,
    end: int,
    cache: PrepareCache | None = None,
) -> Scored:
    """``combination`` backtested over ``[start, end)`` as a sweep under ``spec`` scores it
    (signals created in the window, candles closing by ``end``; ``spec``'s space is not
    used). The result keeps the trades."""
    bases = _checked_bases(bases)
    if end <= start:
        raise ValidationError("the scoring window must end after it starts")
    space = (
        check_space({name: [value] for name, value in combination.items()}) if combination else {}
    )
    chosen = {name: values[0] for name, values in space.items() if isinstance(values, list)}
    runner = _Runner(bases, spec, cache if cache is not None else PrepareCache())
    return runner.score(chosen, spec.apply(chosen), start=start, end=end)
