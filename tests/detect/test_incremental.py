"""Incremental detection: feeding candles in pieces gives exactly the zones of one run."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import (
    Candles,
    DetectionParams,
    Detections,
    as_candles,
    detect,
    detect_all,
    detect_incremental,
    initial_state,
    lookback_needed,
    state_from_dict,
    state_to_dict,
)
from cryptolens.detect.engine import run
from cryptolens.domain.errors import ValidationError
from cryptolens.market.synthetic import synthetic_candles
from tests.builders.candles import candle_series, same_rows

PARAMS = st.builds(
    DetectionParams,
    atr_period=st.integers(1, 20),
    swing_left=st.integers(1, 4),
    swing_right=st.integers(1, 4),
    ob_max_leg=st.integers(1, 12),
    ob_zone=st.sampled_from(["range", "body"]),
    equal_tolerance_atr=st.sampled_from([0.0, 0.1, 0.5]),
    volume_lookback=st.integers(1, 25),
)


def _chunked(
    c: Candles, cuts: list[int], params: DetectionParams, timeframe: str = "1h"
) -> Detections:
    state = initial_state(timeframe, params)
    parts = []
    bounds = sorted({0, len(c), *(k for k in cuts if 0 < k < len(c))})
    for a, b in itertools.pairwise(bounds):
        state, found = run(state, c[a:b])
        parts.append(found)
    assert state.seen == len(c)
    return Detections.concat(parts)


@settings(max_examples=80, deadline=None)
@given(candle_series(), PARAMS, st.lists(st.integers(1, 159), max_size=12))
def test_any_split_of_the_candles_gives_exactly_the_full_run(
    c: Candles, params: DetectionParams, cuts: list[int]
) -> None:
    assert same_rows(_chunked(c, cuts, params), detect(c, "1h", params))


@settings(max_examples=20, deadline=None)
@given(candle_series(40, 120))
def test_candle_by_candle_feeding_gives_exactly_the_full_run(c: Candles) -> None:
    params = DetectionParams(swing_left=2, swing_right=2)
    assert same_rows(_chunked(c, list(range(1, len(c))), params), detect(c, "1h", params))


def test_default_parameters_agree_on_a_long_synthetic_series_fed_in_pieces() -> None:
    c = as_candles(synthetic_candles(6_000, seed=11))
    rng = np.random.default_rng(5)
    cuts = sorted(rng.choice(np.arange(1, len(c)), 60, replace=False).tolist())
    assert same_rows(_chunked(c, cuts, DetectionParams(), "1m"), detect(c, "1m"))


def test_incremental_zones_are_the_zones_of_the_full_run() -> None:
    c = as_candles(synthetic_candles(3_000, seed=2))
    state = initial_state("1m")
    zones = []
    for a in range(0, len(c), 250):
        state, found = detect_incremental(state, c[a : a + 250])
        zones.extend(found)
    assert zones == detect_all(c, "1m")
    assert zones  # the series is long enough to hold zones of every kind
    assert {z.pattern_type for z in zones} == {z.pattern_type for z in detect_all(c, "1m")}


def test_the_state_keeps_only_the_lookback_tail() -> None:
    params = DetectionParams()
    state, _ = run(initial_state("1m", params), synthetic_candles(500))
    assert state.tail is not None
    assert len(state.tail) == lookback_needed(params) == 21
    assert state.last_open_time == int(synthetic_candles(500).open_time[-1])


def test_candles_older_than_the_last_seen_are_rejected() -> None:
    c = as_candles(synthetic_candles(100))
    state, _ = run(initial_state("1m"), c)
    with pytest.raises(ValidationError, match="after the last one seen"):
        run(state, c[50:60])


def test_an_empty_batch_changes_nothing() -> None:
    state, _ = run(initial_state("1m"), synthetic_candles(100))
    again, found = run(state, synthetic_candles(0))
    assert again is state
    assert len(found) == 0


def test_an_unknown_timeframe_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown timeframe"):
        initial_state("7m")


def test_a_state_stored_as_json_and_read_back_continues_exactly() -> None:
    c = as_candles(synthetic_candles(4_000, seed=9))
    state, _ = run(initial_state("1m"), c[:2_500])
    stored = json.loads(json.dumps(state_to_dict(state)))
    resumed, rest = run(state_from_dict(stored), c[2_500:])
    direct, rest_direct = run(state, c[2_500:])
    assert same_rows(rest, rest_direct)
    assert len(rest) > 0
    assert state_to_dict(resumed) == state_to_dict(direct)


def test_a_stored_state_of_an_unknown_format_is_rejected() -> None:
    with pytest.raises(ValidationError, match="format"):
        state_from_dict({"format": 99})
