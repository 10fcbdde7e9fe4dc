"""SIGNAL_MIN_QUALITY's rule: which zones count for confluence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.domain.errors import ValidationError
from cryptolens.signals import SignalParams
from cryptolens.signals.quality_gate import counting, counts

probabilities = st.one_of(st.none(), st.floats(0, 1))


@given(st.lists(probabilities, max_size=30), st.floats(0, 1))
def test_a_zone_counts_when_off_unscored_or_at_least_the_minimum(
    values: list[float | None], minimum: float
) -> None:
    column = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    expected = [minimum == 0 or v is None or v >= minimum for v in values]
    assert [counts(v, minimum) for v in values] == expected
    assert counting(column, minimum).tolist() == expected


def test_the_minimum_is_a_probability() -> None:
    with pytest.raises(ValidationError, match="min_quality"):
        SignalParams(min_quality=1.5)
