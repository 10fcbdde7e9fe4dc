"""Confidence intervals and the verdicts read from them.

* Proportions (hold rates): Wilson's score interval, which stays inside [0, 1] and keeps its
  coverage for small samples and rates near 0 or 1, where the normal ("Wald") interval fails.
* A difference of two proportions (real zones minus placebo zones): Newcombe's hybrid score
  interval (his method 10), built from the two Wilson intervals.
* A mean (a trade's R or % after fees): the percentile bootstrap, resampling the trades with a
  seeded generator, so the interval is the same on every run with the same seed and makes no
  assumption about the (skewed, fat-tailed) distribution of trade results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from cryptolens.domain.errors import ValidationError

#: The two-sided 95 % normal quantile.
Z95 = 1.959963984540054
#: Below this many decided samples a figure is flagged as a small sample.
SMALL_SAMPLE = 30
#: Resamples of the bootstrap interval.
BOOTSTRAP_RESAMPLES = 10_000


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate and its two-sided confidence interval."""

    value: float
    low: float
    high: float


class Verdict(StrEnum):
    #: The interval lies wholly above the benchmark (placebo zones, or zero R).
    EDGE = "edge"
    #: The interval contains the benchmark: what was measured is consistent with chance.
    NO_EDGE = "no edge"
    #: The interval lies wholly below the benchmark.
    WORSE = "worse than chance"


def wilson(successes: int, n: int, z: float = Z95) -> Interval | None:
    """Wilson's score interval of ``successes`` out of ``n`` (None when ``n`` is 0).

    Raises ValidationError for counts that cannot be (negative, or more successes than n)."""
    if n < 0 or successes < 0 or successes > n:
        raise ValidationError(f"a proportion needs 0 <= successes <= n, got {successes}/{n}")
    if n == 0:
        return None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At 0 or n successes the bound on that side is the rate itself; rounding must not move it.
    return Interval(p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def difference(first: Interval, second: Interval) -> Interval:
    """Newcombe's interval of ``first.value - second.value`` from the two Wilson intervals."""
    d = first.value - second.value
    below = math.hypot(first.value - first.low, second.high - second.value)
    above = math.hypot(first.high - first.value, second.value - second.low)
    return Interval(d, d - below, d + above)


def bootstrap_mean(
    values: Sequence[float] | np.ndarray,
    *,
    seed: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = 0.95,
) -> Interval | None:
    """The mean of ``values`` and its percentile-bootstrap interval (None when empty)."""
    data = np.asarray(values, dtype=np.float64)
    if data.ndim != 1:
        raise ValidationError("the bootstrap takes one column of values")
    if not len(data):
        return None
    rng = np.random.default_rng(seed)
    means = np.empty(resamples, dtype=np.float64)
    chunk = max(1, 2_000_000 // len(data))  # bounds the index matrix's memory
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        picks = rng.integers(0, len(data), size=(stop - start, len(data)))
        means[start:stop] = data[picks].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(data.mean()), float(low), float(high))


def verdict(interval: Interval, benchmark: float = 0.0) -> Verdict:
    """EDGE when the interval is wholly above ``benchmark``, WORSE when wholly below."""
    if interval.low > benchmark:
        return Verdict.EDGE
    if interval.high < benchmark:
        return Verdict.WORSE
    return Verdict.NO_EDGE
