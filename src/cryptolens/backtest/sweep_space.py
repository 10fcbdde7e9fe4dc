"""What a sweep may vary and how its values are written: the sweep's parameters (the run
parameters of ``params.PARAMS`` plus ``pattern_types``, ``targets`` and ``target_scale``), the
ranking metrics, the parameter space parsed from ``name=a,b`` or ``name=start:stop:step`` and
checked before any work, and the combinations tried (grid or seeded random, under the limit).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from cryptolens.backtest.execution import DEFAULT_EXECUTION, ExecutionModel
from cryptolens.backtest.params import PARAMS, Param, run_params
from cryptolens.backtest.walkforward import (
    MAX_COMBINATIONS,
    ParamSpace,
    Range,
    Value,
    grid_combinations,
    random_combinations,
)
from cryptolens.domain.enums import PatternType
from cryptolens.domain.errors import ValidationError
from cryptolens.signals import DEFAULT_SIGNAL_PARAMS, SignalParams

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
