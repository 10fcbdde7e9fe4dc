"""Range tables: O(1) maxima and first-reaching searches agree with brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect.rangequery import BLOCK, MaxTable


@st.composite
def searches(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int | None]:
    n = draw(st.integers(1, 6 * BLOCK))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(0, 30, n).astype(np.float64)
    start = rng.integers(0, n + 1, 40)
    stop = np.minimum(n, start + rng.integers(0, n + 1, 40))
    threshold = rng.integers(-1, 32, 40).astype(np.float64)
    span = draw(st.one_of(st.none(), st.integers(1, 300)))
    return values, start, stop, threshold, span


@settings(max_examples=150, deadline=None)
@given(searches(), st.booleans())
def test_first_reaching_finds_the_first_index_a_scan_would_find(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int | None], strict: bool
) -> None:
    values, start, stop, threshold, span = case
    found = MaxTable(values, span).first_reaching(start, stop, threshold, strict=strict)
    for s, e, x, got in zip(start, stop, threshold, found, strict=True):
        segment = values[s:e]
        hits = np.flatnonzero(segment > x if strict else segment >= x)
        assert got == (s + hits[0] if hits.size else e)


@settings(max_examples=100, deadline=None)
@given(searches())
def test_range_max_equals_the_maximum_of_the_slice(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int | None],
) -> None:
    values, start, _, _, span = case
    table = MaxTable(values, span)
    longest = min(len(values), (1 << len(table.levels)) - 1)
    stop = np.minimum(len(values), start + np.arange(40) % (longest + 1))
    got = table.range_max(start, stop)
    for s, e, m in zip(start, stop, got, strict=True):
        assert m == (values[s:e].max() if e > s else -np.inf)
