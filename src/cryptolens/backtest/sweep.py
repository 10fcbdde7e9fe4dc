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

Scoring a window ``[start, end)`` trades only signals created in it, and its metrics read the
realised equity sampled every ``bar_ms`` (a day by default) from ``start`` to ``end``, so the
Sharpe ratio and the others are annualised on daily returns. A trade still open at the end
of the data is closed there, as the engine does.

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

import itertools
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from cryptolens.backtest.engine import BacktestResult, BacktestTrade, trade_replays
from cryptolens.backtest.execution import DEFAULT_EXECUTION, ExecutionModel
from cryptolens.backtest.metrics import ClosedTrade, Metrics, compute_metrics
from cryptolens.backtest.replay import (
    Prepared,
    Replay,
    check_timeframes,
    find_drafts,
    prepare,
    track_drafts,
)
from cryptolens.backtest.walkforward import (
    DEFAULT_MIN_FRACTION,
    MAX_COMBINATIONS,
    ParamSpace,
    Range,
    Split,
    Value,
    divergence,
    grid_combinations,
    random_combinations,
)
from cryptolens.detect import DEFAULT_PARAMS, Candles, DetectionParams, as_candles
from cryptolens.domain.enums import PatternType
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import DAY_MS, HOUR_MS, timeframe_ms
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
    """A parameter a sweep may vary: its kind, its bounds (inclusive unless ``open_low``) and
    what it sets."""

    name: str
    kind: Literal["int", "float", "bool", "patterns", "targets"]
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    help: str = ""


SWEEP_PARAMS: dict[str, SweepParam] = {
    p.name: p
    for p in (
        SweepParam("min_confluence", "int", 1, 8, help="timeframes that must agree"),
        SweepParam("require_higher_timeframe", "bool", help="one of them 4h or 1d"),
        SweepParam("cooldown_hours", "float", 0, 24 * 30, help="quiet time per direction"),
        SweepParam("proximity", "float", 0, 0.2, help="reach of a zone, fraction of price"),
        SweepParam("stop_atr", "float", 0, 10, help="stop buffer in ATR"),
        SweepParam("stop_min_fraction", "float", 0, 0.1, open_low=True, help="minimum buffer"),
        SweepParam("targets", "targets", 0, 50, open_low=True, help="three R multiples, 1/2/3"),
        SweepParam("target_scale", "float", 0, 10, open_low=True, help="x the base targets"),
        SweepParam("entry_ttl_hours", "float", 0, 24 * 30, open_low=True, help="entry order life"),
        SweepParam("max_hold_hours", "float", 0, 24 * 365, open_low=True, help="maximum hold"),
        SweepParam("pattern_types", "patterns", help="zones that count, fvg+order_block"),
        SweepParam("maker_fee_bps", "float", 0, 100),
        SweepParam("taker_fee_bps", "float", 0, 100),
        SweepParam("slippage_value", "float", 0, 1_000, help="bps or ATR fraction"),
        SweepParam("risk_pct", "float", 0, 100, open_low=True, help="equity risked per trade"),
        SweepParam("max_positions", "int", 1, 1_000),
        SweepParam("max_positions_per_symbol", "int", 1, 100),
        SweepParam("break_even", "bool", help="stop to entry after TP1"),
    )
}
_SIGNAL_NAMES = frozenset(
    {
        "min_confluence",
        "require_higher_timeframe",
        "cooldown_hours",
        "proximity",
        "stop_atr",
        "stop_min_fraction",
        "targets",
        "target_scale",
        "entry_ttl_hours",
        "max_hold_hours",
    }
)
_EXECUTION_NAMES = frozenset(
    {
        "maker_fee_bps",
        "taker_fee_bps",
        "slippage_value",
        "risk_pct",
        "max_positions",
        "max_positions_per_symbol",
        "break_even",
    }
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

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


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
            raise ValidationError(f"parameter {name!r} is given twice")
        param = _param(name)
        if ":" in text:
            raw[name] = _parse_range(param, text)
        else:
            raw[name] = [item.strip() for item in text.split(",")]
    return check_space(raw)


def check_space(space: ParamSpace) -> dict[str, Range | list[Value]]:
    """``space`` with every value converted to its parameter's type and checked: known names,
    values in range, ranges only over numbers, no empty lists, not both ``targets`` and
    ``target_scale``. Strings are parsed as ``parse_space`` does (so JSON from an API works).
    Raises ValidationError."""
    if not space:
        raise ValidationError("the sweep needs at least one parameter to vary")
    if "targets" in space and "target_scale" in space:
        raise ValidationError("give targets or target_scale, not both")
    out: dict[str, Range | list[Value]] = {}
    for name, values in space.items():
        param = _param(name)
        if isinstance(values, Range):
            if param.kind not in ("int", "float"):
                raise ValidationError(f"{name}: a range needs a numeric parameter")
            if param.kind == "int" and not all(
                isinstance(v, int) for v in (values.start, values.stop, values.step)
            ):
                raise ValidationError(f"{name}: a range of whole numbers is needed")
            _check_number(param, values.value(0))
            _check_number(param, values.value(len(values) - 1))
            out[name] = values
            continue
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise ValidationError(f"parameter {name!r} needs a list of values")
        if len(values) == 0:
            raise ValidationError(f"parameter {name!r} has no values to try")
        converted = [_convert(param, value) for value in values]
        if len(set(converted)) != len(converted):
            raise ValidationError(f"parameter {name!r} repeats a value")
        out[name] = converted
    return out


def _param(name: str) -> SweepParam:
    param = SWEEP_PARAMS.get(name)
    if param is None:
        known = ", ".join(sorted(SWEEP_PARAMS))
        raise ValidationError(f"unknown sweep parameter {name!r}; known: {known}")
    return param


def _parse_range(param: SweepParam, text: str) -> Range:
    parts = text.split(":")
    if len(parts) != 3 or param.kind not in ("int", "float"):
        raise ValidationError(f"{param.name}: a range is start:stop:step, over a numeric parameter")
    numbers = [_number(param, part.strip()) for part in parts]
    try:
        return Range(*numbers)
    except ValidationError as error:
        raise ValidationError(f"{param.name}: {error}") from None


def _number(param: SweepParam, text: str) -> int | float:
    try:
        return int(text) if param.kind == "int" else float(text)
    except ValueError:
        kind = "a whole number" if param.kind == "int" else "a number"
        raise ValidationError(f"{param.name}: {text!r} is not {kind}") from None


def _convert(param: SweepParam, value: object) -> Value:
    if param.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValidationError(f"{param.name}: {value!r} is not true or false")
    if param.kind == "patterns":
        return _patterns_value(param, value)
    if param.kind == "targets":
        return _targets_value(param, value)
    if isinstance(value, str):
        number = _number(param, value.strip())
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{param.name}: {value!r} is not a number")
    elif param.kind == "int":
        if not float(value).is_integer():
            raise ValidationError(f"{param.name}: {value!r} is not a whole number")
        number = int(value)
    else:
        number = float(value)
    _check_number(param, number)
    return number


def _check_number(param: SweepParam, value: float) -> None:
    low, high = param.low, param.high
    too_low = low is not None and (value <= low if param.open_low else value < low)
    if not math.isfinite(value) or too_low or (high is not None and value > high):
        bracket = "(" if param.open_low else "["
        raise ValidationError(
            f"{param.name}: {value!r} is out of range, allowed {bracket}{low:g}, {high:g}]"
        )


def _patterns_value(param: SweepParam, value: object) -> str:
    items = value.split(PATTERN_SEPARATOR) if isinstance(value, str) else value
    if not isinstance(items, Collection) or isinstance(items, bytes):
        raise ValidationError(f"{param.name}: {value!r} is not a set of pattern types")
    chosen = set()
    for item in items:
        try:
            chosen.add(PatternType(str(item).strip()))
        except ValueError:
            known = ", ".join(p.value for p in PatternType)
            raise ValidationError(
                f"{param.name}: unknown pattern type {item!r}; known: {known}"
            ) from None
    if not chosen:
        raise ValidationError(f"{param.name}: a value needs at least one pattern type")
    return PATTERN_SEPARATOR.join(p.value for p in PatternType if p in chosen)


def _targets_value(param: SweepParam, value: object) -> str:
    items = value.split(TARGET_SEPARATOR) if isinstance(value, str) else value
    if not isinstance(items, Sequence) or len(items) != 3:
        raise ValidationError(f"{param.name}: {value!r} is not three R multiples like 1/2/3")
    numbers = [_number(param, str(item).strip()) for item in items]
    for number in numbers:
        _check_number(param, number)
    if not numbers[0] < numbers[1] < numbers[2]:
        raise ValidationError(f"{param.name}: {value!r} must increase, like 1/2/3")
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
    given bases. Raises ValidationError for a combination they refuse (e.g. a stop buffer
    the signal rules reject)."""
    signal_changes: dict[str, object] = {}
    execution_changes: dict[str, object] = {}
    patterns: frozenset[PatternType] | None = None
    for name, value in combination.items():
        param = _param(name)
        if name == "pattern_types":
            text = _patterns_value(param, value)
            patterns = frozenset(PatternType(p) for p in text.split(PATTERN_SEPARATOR))
        elif name == "targets":
            text = _targets_value(param, value)
            signal_changes["targets_r"] = tuple(float(x) for x in text.split(TARGET_SEPARATOR))
        elif name == "target_scale":
            scale = float(_convert(param, value))
            signal_changes["targets_r"] = tuple(r * scale for r in signals.targets_r)
        elif name.endswith("_hours"):
            ms = round(float(_convert(param, value)) * HOUR_MS)
            signal_changes[name.removesuffix("_hours") + "_ms"] = ms
        elif name in _SIGNAL_NAMES:
            signal_changes[name] = _convert(param, value)
        else:
            assert name in _EXECUTION_NAMES
            execution_changes[name] = _convert(param, value)
    try:
        return Setup(
            replace(signals, **signal_changes),  # type: ignore[arg-type]
            patterns,
            replace(execution, **execution_changes),  # type: ignore[arg-type]
        )
    except ValidationError as error:
        raise ValidationError(f"combination {dict(combination)}: {error}") from None


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
    for an unknown metric, bad timeframes or bar interval); the space is checked, and the
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
    #: Equity is sampled every ``bar_ms`` for the metrics (daily returns by default).
    bar_ms: int = DAY_MS

    def __post_init__(self) -> None:
        check_metric(self.metric)
        check_timeframes(self.base_timeframe, self.timeframes)
        if self.bar_ms <= 0:
            raise ValidationError("the metrics' bar interval must be positive")

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
        metrics = result_metrics(result, start=start, end=end, bar_ms=self.spec.bar_ms)
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
    result: BacktestResult, *, start: int, end: int, bar_ms: int = DAY_MS
) -> Metrics:
    """The metrics of a backtest over ``[start, end]``: realised equity sampled every
    ``bar_ms`` from ``start`` (and at ``end``), its trades, and buy and hold of a single
    symbol's closes over the window."""
    times, equity = _sampled(result, start, end, bar_ms)
    prices: npt.NDArray[np.float64] = np.empty(0)
    if len(result.replays) == 1:
        (replayed,) = result.replays.values()
        base = replayed.base
        close_at = base.open_time + timeframe_ms(replayed.base_timeframe)
        prices = base.close[(close_at > start) & (close_at <= end)]
    return compute_metrics(
        times,
        equity,
        _closed(result.trades),
        initial_capital=result.execution.initial_equity,
        bar_ms=bar_ms,
        buy_and_hold_prices=prices,
        ambiguous=result.ambiguous,
    )


def _sampled(
    result: BacktestResult, start: int, end: int, bar_ms: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Realised equity at ``start``, every ``bar_ms`` after it, and ``end``."""
    if end <= start:
        raise ValidationError("the scoring window must end after it starts")
    times = np.arange(start, end, bar_ms, dtype=np.int64)
    if times[-1] != end:
        times = np.append(times, np.int64(end))
    curve = result.equity
    at = np.searchsorted(curve.time, times, side="right") - 1
    initial = result.execution.initial_equity
    equity = np.where(at >= 0, curve.equity[np.maximum(at, 0)], initial)
    return times, equity.astype(np.float64)


def _closed(trades: Sequence[BacktestTrade]) -> list[ClosedTrade]:
    return [
        ClosedTrade(
            t.entry_time,
            t.exit_time,
            t.entry_price,
            t.exit_price,
            t.size,
            t.direction,
            t.pnl,
            t.fees,
            t.r_multiple,
        )
        for t in trades
    ]


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


# -- walk-forward ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SplitResult:
    """One split: the best in-sample combination and how it did out of sample."""

    split: Split
    params: dict[str, Value]
    in_sample: Metrics
    out_of_sample: Metrics
    in_score: float | None
    out_score: float | None
    #: Set when the out-of-sample result falls apart from the in-sample one.
    warning: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "split": asdict(self.split),
            "params": dict(self.params),
            "in_score": self.in_score,
            "out_score": self.out_score,
            "warning": self.warning,
            "in_sample": asdict(self.in_sample),
            "out_of_sample": asdict(self.out_of_sample),
        }


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    metric: str
    splits: tuple[SplitResult, ...]
    #: The out-of-sample windows chained into one test (None when the windows overlap).
    stitched: Metrics | None
    #: Every split's warning, prefixed by its index.
    warnings: tuple[str, ...]
    prepares: int


def run_walk_forward(
    bases: Mapping[str, Candles],
    spec: SweepSpec,
    splits: Sequence[Split],
    *,
    min_fraction: float = DEFAULT_MIN_FRACTION,
    cache: PrepareCache | None = None,
    progress: Progress | None = None,
) -> WalkForwardResult:
    """Optimise in sample, score out of sample, split by split (``walkforward
    .walk_forward_splits`` makes the splits). ``progress(done, total)`` counts backtests:
    each split's combinations, then its out-of-sample run. Raises ValidationError before any
    work for bad input, more combinations than the limit or more than
    ``MAX_WALK_FORWARD_RUNS`` backtests."""
    bases = _checked_bases(bases)
    if not splits:
        raise ValidationError("the walk-forward needs at least one split")
    tried = spec.setups()
    total = len(splits) * (len(tried) + 1)
    if total > MAX_WALK_FORWARD_RUNS:
        raise ValidationError(
            f"{total:,} backtests ({len(splits)} splits x {len(tried) + 1}) exceed the limit "
            f"of {MAX_WALK_FORWARD_RUNS:,}; use fewer splits or combinations"
        )
    cache = cache if cache is not None else PrepareCache()
    before = cache.prepares
    runner = _Runner(bases, spec, cache)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    results = []
    outs: list[BacktestResult] = []
    for split in splits:
        scored = []
        for params, setup in tried:
            scored.append(runner.score(params, setup, start=split.in_start, end=split.in_end))
            tick()
        best = _rank(scored, spec.metric)[0]
        chosen = next(setup for params, setup in tried if params == best.params)
        out = runner.score(best.params, chosen, start=split.out_start, end=split.out_end)
        tick()
        outs.append(out.result)
        warning = divergence(best.score, out.score, metric=spec.metric, min_fraction=min_fraction)
        results.append(
            SplitResult(
                split, best.params, best.metrics, out.metrics, best.score, out.score, warning
            )
        )
    warnings = tuple(f"split {r.split.index}: {r.warning}" for r in results if r.warning)
    stitched = _stitch(results, outs, spec.bar_ms)
    return WalkForwardResult(
        spec.metric, tuple(results), stitched, warnings, cache.prepares - before
    )


def _stitch(
    results: Sequence[SplitResult], outs: Sequence[BacktestResult], bar_ms: int
) -> Metrics | None:
    windows = sorted(zip(results, outs, strict=True), key=lambda pair: pair[0].split.out_start)
    for (a, _), (b, _) in itertools.pairwise(windows):
        if b.split.out_start < a.split.out_end:
            return None
    initial = outs[0].execution.initial_equity
    times: list[npt.NDArray[np.int64]] = []
    equity: list[npt.NDArray[np.float64]] = []
    trades: list[BacktestTrade] = []
    level = 1.0
    for result, out in windows:
        t, e = _sampled(out, result.split.out_start, result.split.out_end, bar_ms)
        growth = e / out.execution.initial_equity
        if times and t[0] <= times[-1][-1]:  # tiled windows share the boundary point
            t, growth = t[1:], growth[1:]
        if len(t):
            times.append(t)
            equity.append(initial * level * growth)
            level *= float(growth[-1])
        trades.extend(out.trades)
    return compute_metrics(
        np.concatenate(times),
        np.concatenate(equity),
        _closed(trades),
        initial_capital=initial,
        bar_ms=bar_ms,
        ambiguous=sum(o.ambiguous for o in outs),
    )
