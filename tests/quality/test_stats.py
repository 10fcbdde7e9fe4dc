"""Confidence intervals against published figures, and the verdicts read from them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.domain.errors import ValidationError
from cryptolens.quality.stats import (
    Interval,
    Verdict,
    bootstrap_mean,
    difference,
    verdict,
    wilson,
)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombes_published_values(
    successes: int, n: int, low: float, high: float
) -> None:
    got = wilson(successes, n)
    assert got is not None
    assert got.value == pytest.approx(successes / n)
    assert (round(got.low, 4), round(got.high, 4)) == (low, high)


def test_difference_interval_matches_newcombes_method_ten() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II: 56/70 - 48/80.
    first, second = wilson(56, 70), wilson(48, 80)
    assert first is not None
    assert second is not None
    got = difference(first, second)
    assert got.value == pytest.approx(0.2)
    assert (round(got.low, 4), round(got.high, 4)) == (0.0524, 0.3339)


def test_wilson_of_nothing_is_none_and_of_impossible_counts_an_error() -> None:
    assert wilson(0, 0) is None
    with pytest.raises(ValidationError, match="successes <= n"):
        wilson(5, 4)
    with pytest.raises(ValidationError):
        wilson(-1, 4)


@given(st.integers(1, 5_000), st.data())
def test_wilson_interval_holds_the_rate_inside_zero_and_one(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    got = wilson(k, n)
    assert got is not None
    assert 0.0 <= got.low <= got.value <= got.high <= 1.0


def test_verdict_needs_the_whole_interval_beyond_the_benchmark() -> None:
    assert verdict(Interval(0.1, 0.01, 0.2)) is Verdict.EDGE
    assert verdict(Interval(0.1, -0.01, 0.2)) is Verdict.NO_EDGE
    assert verdict(Interval(-0.1, -0.2, 0.0)) is Verdict.NO_EDGE
    assert verdict(Interval(-0.1, -0.2, -0.01)) is Verdict.WORSE
    assert verdict(Interval(0.6, 0.55, 0.65), benchmark=0.5) is Verdict.EDGE


def test_bootstrap_is_the_same_for_a_seed_and_differs_between_seeds() -> None:
    values = np.random.default_rng(3).normal(0.1, 1.0, 400)
    first = bootstrap_mean(values, seed=11)
    assert first == bootstrap_mean(values, seed=11)
    assert first != bootstrap_mean(values, seed=12)
    assert first is not None
    assert first.value == pytest.approx(values.mean())
    # The bootstrap interval of a mean is close to the normal one for 400 normal draws.
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    assert first.low == pytest.approx(values.mean() - half, abs=0.02)
    assert first.high == pytest.approx(values.mean() + half, abs=0.02)


def test_bootstrap_of_no_values_is_none() -> None:
    assert bootstrap_mean([], seed=1) is None
