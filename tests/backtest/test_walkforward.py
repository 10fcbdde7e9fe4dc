"""Walk-forward splits that never leak, the divergence warning, and sweep combinations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.backtest.walkforward import (
    MAX_COMBINATIONS,
    MAX_SPLITS,
    Range,
    Split,
    combination_count,
    divergence,
    grid_combinations,
    random_combinations,
    walk_forward_splits,
)
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import DAY_MS

T0 = 1_514_764_800_000  # 2018-01-01T00:00Z


def test_rolling_splits_tile_the_range_with_out_of_sample_windows() -> None:
    splits = walk_forward_splits(
        T0, T0 + 100 * DAY_MS, in_sample_ms=30 * DAY_MS, out_of_sample_ms=10 * DAY_MS
    )
    # Windows of 40 days stepping by 10 fit while 10k + 40 <= 100: k = 0..6.
    assert len(splits) == 7
    assert splits[0] == Split(0, T0, T0 + 30 * DAY_MS, T0 + 30 * DAY_MS, T0 + 40 * DAY_MS)
    assert splits[-1] == Split(
        6, T0 + 60 * DAY_MS, T0 + 90 * DAY_MS, T0 + 90 * DAY_MS, T0 + 100 * DAY_MS
    )


def test_anchored_splits_keep_the_start_and_a_gap_separates_the_windows() -> None:
    splits = walk_forward_splits(
        T0,
        T0 + 50 * DAY_MS,
        in_sample_ms=20 * DAY_MS,
        out_of_sample_ms=10 * DAY_MS,
        step_ms=5 * DAY_MS,
        gap_ms=DAY_MS,
        anchored=True,
    )
    # 5k + 20 + 1 + 10 <= 50: k = 0..3.
    assert [(s.in_start, s.in_end - T0, s.out_start - T0) for s in splits] == [
        (T0, 20 * DAY_MS, 21 * DAY_MS),
        (T0, 25 * DAY_MS, 26 * DAY_MS),
        (T0, 30 * DAY_MS, 31 * DAY_MS),
        (T0, 35 * DAY_MS, 36 * DAY_MS),
    ]


lengths = st.integers(1, 50)


@given(
    st.integers(0, 10**6),
    st.integers(0, 400),
    lengths,
    lengths,
    st.one_of(st.none(), lengths),
    st.integers(0, 10),
    st.booleans(),
)
def test_no_split_scores_data_its_optimisation_saw_or_reads_past_the_range(
    start: int,
    span: int,
    in_sample: int,
    out_of_sample: int,
    step: int | None,
    gap: int,
    anchored: bool,
) -> None:
    end = start + span
    kwargs = {
        "in_sample_ms": in_sample,
        "out_of_sample_ms": out_of_sample,
        "step_ms": step,
        "gap_ms": gap,
        "anchored": anchored,
        "limit": 10**6,
    }
    if span < in_sample + gap + out_of_sample:
        with pytest.raises(ValidationError, match="too short"):
            walk_forward_splits(start, end, **kwargs)
        return
    splits = walk_forward_splits(start, end, **kwargs)
    stride = out_of_sample if step is None else step
    for k, split in enumerate(splits):
        assert split.index == k
        assert start <= split.in_start < split.in_end <= split.out_start < split.out_end <= end
        assert split.out_start - split.in_end == gap
        assert split.out_end - split.out_start == out_of_sample
        assert split.in_end == start + k * stride + in_sample
    # Complete: one more step would run past the end.
    assert splits[-1].out_end + stride > end


def test_bad_walk_forward_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="must be positive"):
        walk_forward_splits(T0, T0 + 10, in_sample_ms=0, out_of_sample_ms=1)
    with pytest.raises(ValidationError, match="cannot be negative"):
        walk_forward_splits(T0, T0 + 10, in_sample_ms=1, out_of_sample_ms=1, gap_ms=-1)
    with pytest.raises(ValidationError, match=f"exceed the limit of {MAX_SPLITS}"):
        walk_forward_splits(T0, T0 + DAY_MS, in_sample_ms=1, out_of_sample_ms=1)


def test_divergence_warns_on_a_sign_flip_a_collapse_or_an_undefined_result() -> None:
    assert "changes sign" in (divergence(1.8, -0.2) or "")
    assert "below 50% of in sample" in (divergence(2.0, 0.9) or "")
    assert "undefined out of sample" in (divergence(2.0, None) or "")
    assert "Sortino" in (divergence(2.0, 0.5, metric="Sortino") or "")
    assert "below 80%" in (divergence(2.0, 1.5, min_fraction=0.8) or "")


def test_divergence_stays_silent_when_out_of_sample_holds_up_or_nothing_was_promised() -> None:
    assert divergence(2.0, 1.0) is None
    assert divergence(2.0, 3.0) is None
    assert divergence(-0.5, -2.0) is None
    assert divergence(0.0, -1.0) is None
    assert divergence(None, 1.0) is None


SPACE = {
    "min_confluence": Range(2, 4, 1),
    "stop_buffer": Range(0.1, 0.3, 0.1),
    "htf_required": [True, False],
}


def test_the_grid_lists_every_combination_with_clean_range_values() -> None:
    grid = grid_combinations(SPACE)
    assert combination_count(SPACE) == 3 * 3 * 2
    assert len(grid) == 18
    assert grid[0] == {"min_confluence": 2, "stop_buffer": 0.1, "htf_required": True}
    assert grid[-1] == {"min_confluence": 4, "stop_buffer": 0.3, "htf_required": False}
    assert {g["stop_buffer"] for g in grid} == {0.1, 0.2, 0.3}
    assert all(type(g["min_confluence"]) is int for g in grid)
    assert len({tuple(g.values()) for g in grid}) == 18


def test_a_grid_over_the_limit_is_refused_naming_the_limit() -> None:
    space = {"a": Range(1, 100, 1), "b": Range(1, 11, 1)}
    with pytest.raises(
        ValidationError, match=f"1,100 combinations exceed the limit of {MAX_COMBINATIONS:,}"
    ):
        grid_combinations(space)
    assert len(grid_combinations({"a": Range(1, 100, 1), "b": Range(1, 10, 1)})) == MAX_COMBINATIONS
    with pytest.raises(ValidationError, match="limit of 5"):
        grid_combinations(SPACE, limit=5)


def test_random_combinations_are_distinct_drawn_from_the_space_and_fixed_by_the_seed() -> None:
    space = {"a": Range(0, 999, 1), "b": Range(0.5, 50.0, 0.5), "c": ["fvg", "order_block"]}
    first = random_combinations(space, count=50, seed=1)
    assert first == random_combinations(space, count=50, seed=1)
    assert first != random_combinations(space, count=50, seed=2)
    assert len({tuple(c.values()) for c in first}) == 50
    for combination in first:
        assert combination["a"] in range(1000)
        assert 0.5 <= combination["b"] <= 50.0
        assert combination["c"] in ("fvg", "order_block")


def test_random_combinations_from_a_small_grid_are_distinct_and_may_be_all_of_it() -> None:
    some = random_combinations(SPACE, count=10, seed=3)
    assert len({tuple(c.values()) for c in some}) == 10
    assert all(c in grid_combinations(SPACE) for c in some)
    assert random_combinations(SPACE, count=40, seed=3) == grid_combinations(SPACE)


def test_a_random_sample_over_the_limit_is_refused_before_any_work() -> None:
    with pytest.raises(ValidationError, match=f"{MAX_COMBINATIONS:,} combinations"):
        random_combinations(SPACE, count=MAX_COMBINATIONS + 1, seed=0)
    with pytest.raises(ValidationError, match="between 1"):
        random_combinations(SPACE, count=0, seed=0)


def test_malformed_parameter_spaces_are_refused() -> None:
    with pytest.raises(ValidationError, match="'targets' has no values"):
        combination_count({"targets": []})
    with pytest.raises(ValidationError, match="list of values"):
        combination_count({"pattern": "fvg"})
    with pytest.raises(ValidationError, match="positive step"):
        Range(1, 5, 0)
    with pytest.raises(ValidationError, match="positive step"):
        Range(5, 1, 1)
    with pytest.raises(ValidationError, match="finite"):
        Range(0, float("inf"), 1)
