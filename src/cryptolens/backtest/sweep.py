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

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np

from cryptolens.backtest.engine import BacktestResult, trade_replays
from cryptolens.backtest.execution import DEFAULT_EXECUTION, ExecutionModel
from cryptolens.backtest.metrics import Metrics
from cryptolens.backtest.params import PARAMS, Param, run_params
from cryptolens.backtest.replay import (
    Prepared,
    Replay,
    check_timeframes,
    find_drafts,
    prepare,
    track_drafts,
)
from cryptolens.backtest.report import BarEquity, bar_equity, report_metrics
from cryptolens.backtest.walkforward import (
    MAX_COMBINATIONS,
    ParamSpace,
    Range,
    Value,
    grid_combinations,
    random_combinations,
)
from cryptolens.detect import DEFAULT_PARAMS, Candles, DetectionParams, as_candles
from cryptolens.domain.enums import PatternType
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.signals import DEFAULT_SIGNAL_PARAMS, SignalDraft, SignalParams, signal_levels

Mode = Literal["grid", "random"]
Progress = Callable[[int, int], None]

#: Backtests a walk-forward may run (splits x (combinations + 1)).
MAX_WALK_FORWARD_RUNS = 20_000
#: Separator of the pattern types in one ``pattern_types`` value ("fvg+order_block").
PATTERN_SEPARATOR = "+"
#: Separator of the three R multiples in one ``targets`` value ("1/2/3").
TARGET_SEPARATOR = "/"


@dataclass(frozen=True, slots=True)
class SweepParam:
    """A sweep-only parameter (beside every run parameter of ``params.PARAMS``): its kind,
    inclusive bounds and help."""

    name: str
    kind: Literal["float", "patterns", "targets"]
    low: float = 0.0
    high: float = 0.0
    help: str = ""


#: What a sweep may vary besides the run parameters: which pattern types may form
#: confluence, and the targets moved together.
EXTRA_PARAMS: dict[str, SweepParam] = {
    p.name: p
    for p in (
        SweepParam("pattern_types", "patterns", help="zones that count, e.g. fvg+order_block"),
        SweepParam("targets", "targets", 0.1, 20, help="the three targets in R, e.g. 1/2/3"),
        SweepParam("target_scale", "float", 0.01, 10, help="the base targets times this"),
    )
}
#: Every parameter a sweep may vary, by name: the run parameters (the names a single run
#: takes, with the same ranges) and ``EXTRA_PARAMS``.
SWEEP_PARAMS: dict[str, Param | SweepParam] = {**PARAMS, **EXTRA_PARAMS}
#: Of each group, one parameter at most (they set the same thing).
_EXCLUSIVE = (
    frozenset({"targets", "target_scale", "tp1_r", "tp2_r", "tp3_r"}),
    frozenset({"slippage_bps", "slippage_atr"}),
)

#: Metrics a sweep can rank by, and whether a higher value is better.
RANKING: dict[str, bool] = {
    "total_return": True,
    "cagr": True,
    "sharpe": True,
    "sortino": True,
    "calmar": True,
    "profit_factor": True,
    "expectancy_r": True,
    "expectancy_pct": True,
    "sqn": True,
    "win_rate": True,
    "avg_trade_pct": True,
    "trades": True,
    "final_equity": True,
    "max_drawdown": False,
    "volatility": False,
}


# -- the parameter space ---------------------------------------------------------------------


def parse_space(specs: Sequence[str]) -> dict[str, Range | list[Value]]:
    """A space from ``name=v1,v2`` or ``name=start:stop:step`` strings (one per parameter),
    every value checked. Raises ValidationError naming the parameter at fault."""
    if isinstance(specs, str):
        specs = [specs]
    raw: dict[str, Range | list[Value]] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name or not text:
            raise ValidationError(f"{spec!r}: write name=v1,v2,... or name=start:stop:step")
        if name in raw:
            raise ValidationError(f"parameter {name} is given twice")
        kind = _kind(name)
        if ":" in text:
            raw[name] = _parse_range(name, kind, text)
        else:
            raw[name] = [item.strip() for item in text.split(",")]
    return check_space(raw)


def check_space(space: ParamSpace) -> dict[str, Range | list[Value]]:
    """``space`` with every value converted to its parameter's type and checked: known names,
    values in range, ranges only over numbers, no empty lists, at most one way of setting the
    targets or the slippage. Strings are parsed as ``parse_space`` does (so JSON from an API
    works). Raises ValidationError."""
    if not space:
        raise ValidationError("the sweep needs at least one parameter to vary")
    for group in _EXCLUSIVE:
        given = sorted(group & set(space))
        if len(given) > 1:
            raise ValidationError(f"give one of {', '.join(given)}, not several")
    out: dict[str, Range | list[Value]] = {}
    for name, values in space.items():
        kind = _kind(name)
        if isinstance(values, Range):
            if kind not in ("int", "float"):
                raise ValidationError(f"parameter {name}: a range needs a numeric parameter")
            if kind == "int" and not all(
                isinstance(v, int) for v in (values.start, values.stop, values.step)
            ):
                raise ValidationError(f"parameter {name}: a range of whole numbers is needed")
            _convert(name, values.value(0))
            _convert(name, values.value(len(values) - 1))
            out[name] = values
            continue
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise ValidationError(f"parameter {name} needs a list of values")
        if len(values) == 0:
            raise ValidationError(f"parameter {name} has no values to try")
        converted = [_convert(name, value) for value in values]
        if len(set(converted)) != len(converted):
            raise ValidationError(f"parameter {name} repeats a value")
        out[name] = converted
    return out


def _kind(name: str) -> str:
    param = SWEEP_PARAMS.get(name)
    if param is None:
        known = ", ".join(sorted(SWEEP_PARAMS))
        raise ValidationError(f"unknown sweep parameter {name}; known: {known}")
    return param.kind


def _parse_range(name: str, kind: str, text: str) -> Range:
    parts = text.split(":")
    if len(parts) != 3 or kind not in ("int", "float"):
        raise ValidationError(f"parameter {name}: a range is start:stop:step, over a number")
    numbers: list[int | float] = []
    for part in parts:
        try:
            numbers.append(int(part) if kind == "int" else float(part))
        except ValueError:
            wanted = "a whole number" if kind == "int" else "a number"
            raise ValidationError(f"parameter {name} must be {wanted}, got {part!r}") from None
    try:
        return Range(*numbers)
    except ValidationError as error:
        raise ValidationError(f"parameter {name}: {error}") from None


def _convert(name: str, value: object) -> Value:
    param = SWEEP_PARAMS[name]
    if isinstance(param, Param):
        return param.parse(value)
    if param.kind == "patterns":
        return _patterns_value(name, value)
    if param.kind == "targets":
        return _targets_value(param, value)
    return _extra_number(param, value)


def _extra_number(param: SweepParam, value: object) -> float:
    if isinstance(value, bool):
        raise ValidationError(f"parameter {param.name} must be a number, got {value!r}")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(f"parameter {param.name} must be a number, got {value!r}") from None
    if not (math.isfinite(number) and param.low <= number <= param.high):
        raise ValidationError(
            f"parameter {param.name} must be between {param.low:g} and {param.high:g}, "
            f"got {value!r}"
        )
    return number


def _patterns_value(name: str, value: object) -> str:
    items = value.split(PATTERN_SEPARATOR) if isinstance(value, str) else value
    if not isinstance(items, Collection) or isinstance(items, bytes):
        raise ValidationError(f"parameter {name}: {value!r} is not a set of pattern types")
    chosen = set()
    for item in items:
        try:
            chosen.add(PatternType(str(item).strip()))
        except ValueError:
            known = ", ".join(p.value for p in PatternType)
            raise ValidationError(
                f"parameter {name}: unknown pattern type {item!r}; known: {known}"
            ) from None
    if not chosen:
        raise ValidationError(f"parameter {name}: a value needs at least one pattern type")
    return PATTERN_SEPARATOR.join(p.value for p in PatternType if p in chosen)


def _targets_value(param: SweepParam, value: object) -> str:
    items = value.split(TARGET_SEPARATOR) if isinstance(value, str) else value
    if not isinstance(items, Sequence) or len(items) != 3:
        raise ValidationError(
            f"parameter {param.name}: {value!r} is not three R multiples like 1/2/3"
        )
    numbers = [_extra_number(param, item) for item in items]
    if not numbers[0] < numbers[1] < numbers[2]:
        raise ValidationError(f"parameter {param.name}: {value!r} must increase, like 1/2/3")
    return TARGET_SEPARATOR.join(f"{n:g}" for n in numbers)


@dataclass(frozen=True, slots=True)
class Setup:
    """One combination turned into what the backtest takes."""

    signals: SignalParams
    patterns: frozenset[PatternType] | None
    execution: ExecutionModel


def apply_combination(
    combination: Mapping[str, Value],
    *,
    signals: SignalParams = DEFAULT_SIGNAL_PARAMS,
    execution: ExecutionModel = DEFAULT_EXECUTION,
) -> Setup:
    """The signal parameters, pattern filter and execution model of ``combination`` over the
    given bases (run parameters as ``params.run_params`` applies them). Raises
    ValidationError for a combination they refuse (e.g. targets that do not increase)."""
    values = {name: _convert(name, value) for name, value in combination.items()}
    given = {k: v for k, v in values.items() if k in PARAMS and not isinstance(v, str)}
    try:
        run = run_params(given, signals=signals, execution=execution)
        chosen = run.signals
        if "targets" in values:
            r1, r2, r3 = (float(x) for x in str(values["targets"]).split(TARGET_SEPARATOR))
            chosen = replace(chosen, targets_r=(r1, r2, r3))
        if "target_scale" in values:
            scale = float(values["target_scale"])
            r1, r2, r3 = (r * scale for r in chosen.targets_r)
            chosen = replace(chosen, targets_r=(r1, r2, r3))
    except ValidationError as error:
        raise ValidationError(f"combination {dict(combination)}: {error}") from None
    patterns = None
    if "pattern_types" in values:
        text = str(values["pattern_types"])
        patterns = frozenset(PatternType(p) for p in text.split(PATTERN_SEPARATOR))
    return Setup(chosen, patterns, run.execution)


def combinations(
    space: ParamSpace,
    *,
    mode: Mode = "grid",
    count: int | None = None,
    seed: int = 0,
    limit: int = MAX_COMBINATIONS,
) -> list[dict[str, Value]]:
    """The checked combinations to try: the whole grid, or ``count`` drawn at random."""
    checked = check_space(space)
    if mode == "grid":
        return grid_combinations(checked, limit=limit)
    if mode == "random":
        if count is None:
            raise ValidationError("a random sweep needs the number of combinations to draw")
        return random_combinations(checked, count=count, seed=seed, limit=limit)
    raise ValidationError(f"unknown sweep mode {mode!r}; use grid or random")


def check_metric(metric: str) -> str:
    """``metric`` if a sweep can rank by it; raises ValidationError listing the choices."""
    if metric not in RANKING:
        raise ValidationError(f"unknown ranking metric {metric!r}; use one of {', '.join(RANKING)}")
    return metric


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
