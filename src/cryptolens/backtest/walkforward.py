"""Walk-forward: rolling in-sample / out-of-sample windows, the in-sample versus out-of-sample
divergence warning, and the parameter combinations a sweep tries.

Windows are half-open ``[start, end)`` in epoch ms. Split ``k`` (from 0) has its in-sample
window at ``start + k * step`` (or always at ``start`` when anchored, the window growing
instead), ``in_sample_ms`` long; its out-of-sample window begins ``gap_ms`` after the
in-sample one ends (a gap keeps trades opened in-sample from being scored out of sample) and
is ``out_of_sample_ms`` long. Only splits whose out-of-sample window ends by ``end`` exist,
so no split reads data past the range, and none scores data its optimisation has seen.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cryptolens.domain.errors import ValidationError

MAX_SPLITS = 500
MAX_COMBINATIONS = 1_000
#: Out-of-sample results below this share of the in-sample result are a warning.
DEFAULT_MIN_FRACTION = 0.5
#: Decimal places float range values are rounded to, so 0.1 steps give 0.3, not 0.30000000000000004.
_RANGE_PLACES = 10

Value = bool | int | float | str


@dataclass(frozen=True, slots=True)
class Split:
    """One walk-forward step: optimise on ``[in_start, in_end)``, score on
    ``[out_start, out_end)``."""

    index: int
    in_start: int
    in_end: int
    out_start: int
    out_end: int


def walk_forward_splits(
    start: int,
    end: int,
    *,
    in_sample_ms: int,
    out_of_sample_ms: int,
    step_ms: int | None = None,
    gap_ms: int = 0,
    anchored: bool = False,
    limit: int = MAX_SPLITS,
) -> tuple[Split, ...]:
    """The splits of ``[start, end)``; ``step_ms`` defaults to the out-of-sample length, so
    the out-of-sample windows tile the range. Raises ValidationError for lengths that are not
    positive, a range too short for one split, or more than ``limit`` splits."""
    step = out_of_sample_ms if step_ms is None else step_ms
    if min(in_sample_ms, out_of_sample_ms, step) <= 0:
        raise ValidationError("in-sample, out-of-sample and step lengths must be positive")
    if gap_ms < 0:
        raise ValidationError("the gap between in-sample and out-of-sample cannot be negative")
    room = end - start - in_sample_ms - gap_ms - out_of_sample_ms
    if room < 0:
        raise ValidationError(
            "the range is too short for one in-sample and one out-of-sample window"
        )
    count = room // step + 1
    if count > limit:
        raise ValidationError(
            f"{count:,} walk-forward splits exceed the limit of {limit:,}; "
            "lengthen the step or shorten the range"
        )
    splits = []
    for k in range(count):
        in_start = start if anchored else start + k * step
        in_end = start + k * step + in_sample_ms
        out_start = in_end + gap_ms
        splits.append(Split(k, in_start, in_end, out_start, out_start + out_of_sample_ms))
    return tuple(splits)


def divergence(
    in_sample: float | None,
    out_of_sample: float | None,
    *,
    metric: str = "Sharpe",
    min_fraction: float = DEFAULT_MIN_FRACTION,
) -> str | None:
    """A warning when out-of-sample falls apart from a positive in-sample result (sign flip,
    undefined, or below ``min_fraction`` of it), else None. An in-sample result that is not
    positive promised nothing, so nothing can diverge from it."""
    if in_sample is None or in_sample <= 0:
        return None
    if out_of_sample is None:
        return f"{metric} is undefined out of sample after {in_sample:.3g} in sample"
    if out_of_sample <= 0:
        return (
            f"{metric} changes sign out of sample: {in_sample:.3g} in sample, "
            f"{out_of_sample:.3g} out of sample"
        )
    if out_of_sample < min_fraction * in_sample:
        return (
            f"{metric} out of sample ({out_of_sample:.3g}) is below {min_fraction:.0%} of "
            f"in sample ({in_sample:.3g}): the parameters may be fitted to noise"
        )
    return None


@dataclass(frozen=True, slots=True)
class Range:
    """``start, start + step, ...`` up to ``stop`` inclusive; integers when all three are."""

    start: float
    stop: float
    step: float

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.start, self.stop, self.step)):
            raise ValidationError("a range needs finite start, stop and step")
        if self.step <= 0 or self.stop < self.start:
            raise ValidationError("a range needs a positive step and a stop not below its start")

    def __len__(self) -> int:
        # The tolerance keeps a stop reached by float steps (0.1 .. 0.3 by 0.1) inside.
        return math.floor((self.stop - self.start) / self.step + 1e-9) + 1

    def value(self, index: int) -> int | float:
        if all(isinstance(v, int) for v in (self.start, self.stop, self.step)):
            return int(self.start + index * self.step)
        return round(self.start + index * self.step, _RANGE_PLACES)


ParamSpace = Mapping[str, Range | Sequence[Value]]


def combination_count(space: ParamSpace) -> int:
    """How many combinations the grid over ``space`` has; raises ValidationError for a
    parameter without values."""
    total = 1
    for name, values in space.items():
        if isinstance(values, str):
            raise ValidationError(f"parameter {name!r} needs a list of values, not one string")
        if len(values) == 0:
            raise ValidationError(f"parameter {name!r} has no values to try")
        total *= len(values)
    return total


def grid_combinations(
    space: ParamSpace, *, limit: int = MAX_COMBINATIONS
) -> list[dict[str, Value]]:
    """Every combination, the first parameter varying slowest; raises ValidationError when
    there are more than ``limit``."""
    total = combination_count(space)
    if total > limit:
        raise ValidationError(
            f"{total:,} combinations exceed the limit of {limit:,}; "
            "narrow the ranges or draw a random sample"
        )
    names = list(space)
    axes = [range(len(space[name])) for name in names]
    return [_combination(space, names, indices) for indices in itertools.product(*axes)]


def random_combinations(
    space: ParamSpace, *, count: int, seed: int, limit: int = MAX_COMBINATIONS
) -> list[dict[str, Value]]:
    """``count`` distinct combinations drawn uniformly (deterministic for ``seed``), or the
    whole grid when it has no more; raises ValidationError when ``count`` exceeds ``limit``."""
    if not 1 <= count <= limit:
        raise ValidationError(f"ask for between 1 and {limit:,} combinations (the limit)")
    total = combination_count(space)
    if total <= count:
        return grid_combinations(space, limit=limit)
    names = list(space)
    sizes = [len(space[name]) for name in names]
    rng = np.random.default_rng(seed)
    chosen: dict[tuple[int, ...], None] = {}
    if total <= 4 * count:
        for flat in rng.permutation(total)[:count]:
            chosen[_unflatten(int(flat), sizes)] = None
    else:
        # A sparse draw: repeats are rare, so drawing again beats enumerating the grid.
        while len(chosen) < count:
            chosen.setdefault(tuple(int(rng.integers(size)) for size in sizes), None)
    return [_combination(space, names, indices) for indices in chosen]


def _unflatten(flat: int, sizes: Sequence[int]) -> tuple[int, ...]:
    indices = []
    for size in reversed(sizes):
        flat, index = divmod(flat, size)
        indices.append(index)
    return tuple(reversed(indices))


def _combination(
    space: ParamSpace, names: Sequence[str], indices: Sequence[int]
) -> dict[str, Value]:
    combination: dict[str, Value] = {}
    for name, index in zip(names, indices, strict=True):
        values = space[name]
        combination[name] = values.value(index) if isinstance(values, Range) else values[index]
    return combination
