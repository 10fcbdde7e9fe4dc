"""Sweeps and walk-forward tests of stored history: the sweep checked before any work (names,
values, the number of combinations, the ranking metric), the symbol's stored candles loaded
once, and ``backtest.sweep`` run with the settings' timeframes and signal rules as the base
every combination changes.

A stored run (``services.backtests.store``) keeps its sweep as the JSON object
``check_sweep`` reads (``SweepPlan.as_json``: space as ``name=values`` lines, mode, count,
seed, metric, walk-forward days, the backtests it will run) and its results as
``sweep_payload`` writes them: every ranking row with the main metrics only, so the payload
stays bounded, and the best combination's (or the stitched out-of-sample) metrics in full."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, NoReturn

from sqlalchemy import Engine

from cryptolens.backtest.metrics import Metrics
from cryptolens.backtest.params import PARAMS, Value, run_params
from cryptolens.backtest.sweep import (
    MAX_WALK_FORWARD_RUNS,
    PATTERN_SEPARATOR,
    RANKING,
    SWEEP_PARAMS,
    Mode,
    SweepResult,
    SweepSpec,
    parse_space,
    run_sweep,
)
from cryptolens.backtest.sweep_forward import WalkForwardResult, run_walk_forward
from cryptolens.backtest.walkforward import Split, walk_forward_splits
from cryptolens.backtest.walkforward import Value as SweepValue
from cryptolens.config import Settings
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import DAY_MS, ms_to_datetime
from cryptolens.services.backtests.run import BacktestRequest, stored_history

#: ``progress(done, total)``: backtests finished of those the sweep runs.
SweepProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class WalkForward:
    """Rolling windows: optimise over ``in_days``, score the next ``out_days``."""

    in_days: float
    out_days: float

    @classmethod
    def parse(cls, text: str) -> WalkForward:
        """``IN:OUT`` in days, e.g. ``90:30``."""
        first, sep, second = text.partition(":")
        try:
            return cls.of(float(first), float(second)) if sep else cls.of(0, 0)
        except (ValueError, ValidationError):
            raise ValidationError(
                f"walk-forward takes IN:OUT in days, both positive (e.g. 90:30), got {text!r}"
            ) from None

    @classmethod
    def of(cls, in_days: object, out_days: object) -> WalkForward:
        """Both lengths checked: numbers of days, positive, at most ``MAX_WALK_DAYS``."""
        days = []
        for label, value in (("in-sample", in_days), ("out-of-sample", out_days)):
            number = _number(value, f"walk-forward {label} days")
            if not (math.isfinite(number) and 0 < number <= MAX_WALK_DAYS):
                raise ValidationError(
                    f"walk-forward {label} days must be above 0 and at most "
                    f"{MAX_WALK_DAYS:,}, got {value!r}"
                )
            days.append(number)
        return cls(days[0], days[1])

    def splits(self, request: BacktestRequest) -> tuple[Split, ...]:
        """The request's range cut into windows (ValidationError when too short)."""
        return walk_forward_splits(
            request.since_ms,
            request.until_ms,
            in_sample_ms=round(self.in_days * DAY_MS),
            out_of_sample_ms=round(self.out_days * DAY_MS),
        )


#: Longest walk-forward window, in days (ten years: longer than any stored history).
MAX_WALK_DAYS = 3_650


def _number(value: object, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(f"{label} must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValidationError(f"{label} must be a number, got {value!r}") from None


def sweep_spec(
    settings: Settings,
    request: BacktestRequest,
    *,
    space: Sequence[str],
    metric: str = "sharpe",
    mode: Mode = "grid",
    count: int | None = None,
    seed: int = 0,
) -> SweepSpec:
    """The sweep, checked (every combination built) before any candle is read."""
    if not space:
        raise ValidationError("a sweep needs at least one name=values")
    chosen = run_params(request.params, signals=settings.signal_params())
    spec = SweepSpec(
        parse_space(space),
        settings.base_timeframe,
        settings.timeframes,
        metric=metric,
        mode=mode,
        count=count,
        seed=seed,
        signals=chosen.signals,
        execution=chosen.execution,
    )
    spec.setups()
    return spec


def run_stored_sweep(
    engine: Engine,
    settings: Settings,
    request: BacktestRequest,
    spec: SweepSpec,
    *,
    walk_forward: WalkForward | None = None,
    progress: SweepProgress | None = None,
) -> SweepResult | WalkForwardResult:
    """Rank ``spec``'s combinations over the request's stored candles, or walk forward."""
    splits = None if walk_forward is None else walk_forward.splits(request)
    bases = {request.symbol: stored_history(engine, settings, request).base}
    if splits is None:
        return run_sweep(bases, spec, progress=progress)
    return run_walk_forward(bases, spec, splits, progress=progress)


# -- sweeps as stored runs -------------------------------------------------------------------

#: Longest text of one parameter's values ("2,3,4" or "0.5:2:0.5").
MAX_VALUES_CHARS = 1_000
#: The keys a stored sweep object may have.
SWEEP_FIELDS = frozenset({"space", "mode", "count", "seed", "metric", "walk_forward"})
#: Largest seed of a random sweep.
MAX_SEED = 2**31 - 1
#: The metrics kept for each ranking row and split window (the best run keeps them all).
MAIN_METRICS = (
    "total_return",
    "sharpe",
    "max_drawdown",
    "trades",
    "win_rate",
    "profit_factor",
    "expectancy_r",
    "final_equity",
)

Kind = Literal["sweep", "walk_forward"]


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """A checked sweep of a request: the space as ``name=values`` lines, the spec built from
    them, the walk-forward windows (None: one sweep over the whole range) and the number of
    backtests it runs (what its progress counts)."""

    space: tuple[str, ...]
    spec: SweepSpec
    walk_forward: WalkForward | None
    backtests: int

    @property
    def kind(self) -> Kind:
        return "sweep" if self.walk_forward is None else "walk_forward"

    def as_json(self) -> dict[str, Any]:
        """The object stored with the run (``check_sweep`` reads it back)."""
        forward = self.walk_forward
        return {
            "space": list(self.space),
            "mode": self.spec.mode,
            "count": self.spec.count,
            "seed": self.spec.seed,
            "metric": self.spec.metric,
            "walk_forward": None if forward is None else asdict(forward),
            "backtests": self.backtests,
        }


def space_lines(space: object) -> tuple[str, ...]:
    """A sweep's space as ``name=values`` lines, from such lines or ``{name: values}`` (a
    list of values, or the text ``"2,3,4"`` / ``"0.5:2:0.5"``). ValidationError otherwise."""
    if isinstance(space, Mapping):
        lines = [f"{name}={_values_text(name, values)}" for name, values in space.items()]
    elif isinstance(space, Sequence) and not isinstance(space, str | bytes):
        lines = [line if isinstance(line, str) else _not_space(space) for line in space]
    else:
        _not_space(space)
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        raise ValidationError("a sweep needs at least one name=values")
    if len(lines) > len(SWEEP_PARAMS):
        raise ValidationError(f"a sweep varies at most {len(SWEEP_PARAMS)} parameters")
    for line in lines:
        if len(line) > MAX_VALUES_CHARS:
            raise ValidationError(
                f"{line[:30]}...: at most {MAX_VALUES_CHARS:,} characters per parameter"
            )
    return tuple(lines)


def _not_space(space: object) -> NoReturn:
    raise ValidationError(
        f"the sweep space is name=values lines or an object of values per name, got {space!r}"[:200]
    )


def _values_text(name: object, values: object) -> str:
    def item(value: object) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int | float | str):
            return str(value)
        if isinstance(value, Sequence):  # a set of pattern types
            return PATTERN_SEPARATOR.join(str(v) for v in value)
        raise ValidationError(f"parameter {name}: {value!r} is not a value")

    if isinstance(values, str):
        return values
    if isinstance(values, Sequence):
        return ",".join(item(v) for v in values)
    raise ValidationError(f"parameter {name} needs a list of values or a text like 2,3,4")


def check_sweep(
    settings: Settings, request: BacktestRequest, sweep: Mapping[str, object]
) -> SweepPlan:
    """The sweep object of a run (``SweepPlan.as_json``'s keys; ``backtests`` is ignored),
    checked before anything is stored: every combination built, the ranking metric, the
    walk-forward windows against the request's range and the backtests against
    ``MAX_WALK_FORWARD_RUNS``. ValidationError naming what is wrong."""
    unknown = sorted(set(sweep) - SWEEP_FIELDS - {"backtests"})
    if unknown:
        raise ValidationError(f"unknown sweep field {unknown[0]!r}; known: {sorted(SWEEP_FIELDS)}")
    space = space_lines(sweep.get("space"))
    mode = sweep.get("mode") or "grid"
    if mode not in ("grid", "random"):
        raise ValidationError(f"unknown sweep mode {mode!r}; use grid or random")
    count = sweep.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise ValidationError(f"count must be a whole number, got {count!r}")
    seed = sweep.get("seed") or 0
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValidationError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    metric = sweep.get("metric") or "sharpe"
    if not isinstance(metric, str):
        raise ValidationError(f"metric must be one of {', '.join(RANKING)}")
    spec = sweep_spec(
        settings,
        request,
        space=space,
        metric=metric,
        mode=mode,
        count=count,
        seed=seed,
    )
    tried = len(spec.setups())
    forward = _walk_forward(sweep.get("walk_forward"))
    if forward is None:
        return SweepPlan(space, spec, None, tried)
    splits = forward.splits(request)
    backtests = len(splits) * (tried + 1)
    if backtests > MAX_WALK_FORWARD_RUNS:
        raise ValidationError(
            f"{backtests:,} backtests ({len(splits)} splits x {tried + 1}) exceed the limit "
            f"of {MAX_WALK_FORWARD_RUNS:,}; use fewer splits or combinations"
        )
    return SweepPlan(space, spec, forward, backtests)


def _walk_forward(raw: object) -> WalkForward | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"in_days", "out_days"}:
        raise ValidationError("walk_forward takes in_days and out_days (both positive days)")
    return WalkForward.of(raw["in_days"], raw["out_days"])


def main_metrics(metrics: Metrics) -> dict[str, Any]:
    """The ``MAIN_METRICS`` of ``metrics``."""
    return {name: getattr(metrics, name) for name in MAIN_METRICS}


def sweep_payload(
    found: SweepResult | WalkForwardResult, plan: SweepPlan, fixed: Mapping[str, Value]
) -> dict[str, Any]:
    """What a stored sweep keeps: ranking rows (rank, combination, score, main metrics and
    the parameters of a single run repeating it) and the best run's metrics in full; or the
    walk-forward's splits, warnings and stitched out-of-sample metrics."""
    if isinstance(found, SweepResult):
        return {
            "metric": found.metric,
            "rows": [
                {
                    "rank": row.rank,
                    "params": dict(row.params),
                    "score": row.score,
                    "metrics": main_metrics(row.metrics),
                    "single": single_params(plan.spec, fixed, row.params),
                }
                for row in found.rows
            ],
            "best": asdict(found.best.metrics),
        }
    return {
        "metric": found.metric,
        "splits": [
            {
                "index": s.split.index,
                "in_start": _iso(s.split.in_start),
                "in_end": _iso(s.split.in_end),
                "out_start": _iso(s.split.out_start),
                "out_end": _iso(s.split.out_end),
                "params": dict(s.params),
                "in_score": s.in_score,
                "out_score": s.out_score,
                "warning": s.warning,
                "in_sample": main_metrics(s.in_sample),
                "out_of_sample": main_metrics(s.out_of_sample),
            }
            for s in found.splits
        ],
        "warnings": list(found.warnings),
        "stitched": None if found.stitched is None else asdict(found.stitched),
    }


def _iso(ms: int) -> str:
    moment: datetime = ms_to_datetime(ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def single_params(
    spec: SweepSpec, fixed: Mapping[str, Value], combination: Mapping[str, SweepValue]
) -> dict[str, Value] | None:
    """The named parameters of a single run that trades as ``combination`` does under
    ``spec`` (targets as ``tp1_r`` to ``tp3_r``); None when a single run cannot (a pattern
    filter is a sweep's only)."""
    if "pattern_types" in combination:
        return None
    chosen: dict[str, Value] = dict(fixed)
    chosen |= {
        name: value
        for name, value in combination.items()
        if name in PARAMS and not isinstance(value, str)
    }
    if "targets" in combination or "target_scale" in combination:
        targets = spec.apply(combination).signals.targets_r
        for name, value in zip(("tp1_r", "tp2_r", "tp3_r"), targets, strict=True):
            chosen[name] = round(value, 6)
    return chosen
