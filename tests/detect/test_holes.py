"""Missing candles: no zone is built across a hole, and open times must be ms in timeframe steps."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import (
    Candles,
    DetectionParams,
    Detections,
    detect,
    detect_all,
    detect_fvg,
    detect_incremental,
    detect_liquidity_sweeps,
    detect_order_blocks,
    initial_state,
    market_structure,
    run_lifecycle,
    state_from_dict,
    state_to_dict,
)
from cryptolens.detect.engine import run
from cryptolens.domain.errors import CandleTimeError, ValidationError
from tests.builders.candles import BOS_THEN_CHOCH, HOUR, START, candle_series, flat, same_rows

DAY = 24 * HOUR


def _day(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def _at(times: list[int], rows: list[tuple[float, float, float, float]]) -> Candles:
    data = np.array(rows, dtype=np.float64)
    return Candles.from_arrays(
        np.array(times, dtype=np.int64),
        data[:, 0],
        data[:, 1],
        data[:, 2],
        data[:, 3],
        np.ones(len(rows)),
    )


def _with_hole(c: Candles, at: int, missing: int, step: int = HOUR) -> Candles:
    """``c`` with ``missing`` candles' worth of time removed before index ``at``."""
    times = c.open_time + np.where(np.arange(len(c)) >= at, missing * step, 0).astype(np.int64)
    return Candles.from_arrays(times, c.open, c.high, c.low, c.close, c.volume)


def _shifted(d: Detections, by: int) -> Detections:
    return replace(d, formed_index=d.formed_index + by, decided_index=d.decided_index + by)


def test_no_bullish_gap_from_the_daily_candles_of_18_and_19_march_and_1_april_2019() -> None:
    # The real case: daily BTC candles with a 13-day exchange gap between 19 March and 1 April.
    calm = [_day("2019-03-01") + i * DAY for i in range(17)]  # 1 to 17 March
    times = [*calm, _day("2019-03-18"), _day("2019-03-19"), _day("2019-04-01")]
    rows = [*flat(17, 3900.0, 40.0), (3900, 3920, 3880, 3910), (3910, 4010, 3905, 4000),
            (4060, 4100, 4050, 4090)]  # fmt: skip
    candles = _at(times, rows)
    assert len(detect_fvg(candles, "1d")) == 0
    # The same three candles on consecutive days are a gap: the hole alone prevents it.
    consecutive = _at([_day("2019-03-01") + i * DAY for i in range(20)], rows)
    (zone,) = detect_fvg(consecutive, "1d").to_zones()
    assert (zone.zone_low, zone.zone_high) == (3920.0, 4050.0)


def test_a_break_after_a_hole_builds_no_order_block_from_candles_before_it() -> None:
    times = [START + i * HOUR for i in range(len(BOS_THEN_CHOCH))]
    params = DetectionParams(swing_left=2, swing_right=2)
    assert len(detect_order_blocks(_at(times, BOS_THEN_CHOCH), "1h", params))
    # A hole just before the breaking candle (8): the swing high and the order block lie behind it.
    holey = _at([t + (5 * HOUR if i >= 8 else 0) for i, t in enumerate(times)], BOS_THEN_CHOCH)
    assert len(detect_order_blocks(holey, "1h", params)) == 0


def test_a_swing_level_before_a_hole_cannot_be_swept_after_it() -> None:
    rows = [*flat(3, 100.0), (100, 105, 99, 101), *flat(3, 100.0), (100, 106, 99, 100)]
    params = DetectionParams(swing_left=2, swing_right=2)
    times = [START + i * HOUR for i in range(len(rows))]
    assert len(detect_liquidity_sweeps(_at(times, rows), "1h", params)) == 1
    holey = [t + (3 * HOUR if i >= 7 else 0) for i, t in enumerate(times)]
    assert len(detect_liquidity_sweeps(_at(holey, rows), "1h", params)) == 0


@settings(max_examples=60, deadline=None)
@given(candle_series(20, 120), st.integers(1, 119), st.integers(1, 30))
def test_detection_across_a_hole_equals_detection_of_the_two_sides_separately(
    c: Candles, at: int, missing: int
) -> None:
    at = min(at, len(c) - 1)
    holey = _with_hole(c, at, missing)
    params = DetectionParams(swing_left=2, swing_right=2, atr_period=5)
    separately = Detections.concat(
        [detect(holey[:at], "1h", params), _shifted(detect(holey[at:], "1h", params), at)]
    )
    assert same_rows(detect(holey, "1h", params), separately)


@settings(max_examples=40, deadline=None)
@given(candle_series(20, 120), st.integers(1, 119), st.lists(st.integers(1, 119), max_size=6))
def test_incremental_feeding_across_a_hole_gives_exactly_the_full_run(
    c: Candles, at: int, cuts: list[int]
) -> None:
    holey = _with_hole(c, min(at, len(c) - 1), 4)
    state = initial_state("1h")
    parts = []
    bounds = sorted({0, len(c), at, *(k for k in cuts if 0 < k < len(c))})
    for a, b in itertools.pairwise(bounds):
        state, found = run(state, holey[a:b])
        parts.append(found)
        state = state_from_dict(json.loads(json.dumps(state_to_dict(state))))  # as stored
    assert same_rows(Detections.concat(parts), detect(holey, "1h"))


def test_epoch_seconds_are_rejected_with_a_message_that_names_them() -> None:
    seconds = _at([1_552_867_200 + i * 86_400 for i in range(5)], flat(5))
    with pytest.raises(CandleTimeError, match=r"not epoch milliseconds.*epoch seconds"):
        detect_all(seconds, "1d")
    with pytest.raises(CandleTimeError, match="epoch seconds"):
        detect_incremental(initial_state("1d"), seconds[:1])


def test_candles_spaced_unlike_the_timeframe_are_rejected() -> None:
    half_hours = _at([START + i * HOUR // 2 for i in range(6)], flat(6))
    with pytest.raises(CandleTimeError, match=r"index 1 .*1800000 ms after.*3600000 ms apart"):
        detect(half_hours, "1h")
    with pytest.raises(CandleTimeError):
        market_structure(half_hours, "1h")
    with pytest.raises(CandleTimeError):
        run_lifecycle(Detections.empty(), half_hours, "1h")


def test_a_hole_of_whole_candles_is_legal_but_a_fraction_of_one_is_not() -> None:
    holes = _at([START, START + HOUR, START + 5 * HOUR, START + 6 * HOUR], flat(4))
    detect(holes, "1h")
    ragged = _at([START, START + HOUR, START + 5 * HOUR + 1, START + 6 * HOUR + 1], flat(4))
    with pytest.raises(CandleTimeError, match="index 2"):
        detect(ragged, "1h")


def test_continuing_with_candles_spaced_off_the_last_one_seen_is_rejected() -> None:
    state, _ = run(initial_state("1h"), _at([START, START + HOUR], flat(2)))
    with pytest.raises(CandleTimeError, match="index 0"):
        run(state, _at([START + 2 * HOUR + 60_000], flat(1)))


def test_the_time_error_is_a_validation_error_so_the_edges_answer_4xx() -> None:
    assert issubclass(CandleTimeError, ValidationError)
    assert CandleTimeError.status_code == 400


@settings(max_examples=30, deadline=None)
@given(candle_series(30, 120), st.integers(5, 100))
def test_market_structure_reads_each_side_of_a_hole_on_its_own(c: Candles, at: int) -> None:
    at = min(at, len(c) - 1)
    holey = _with_hole(c, at, 3)
    params = DetectionParams(swing_left=2, swing_right=2, atr_period=5)
    whole = market_structure(holey, "1h", params)
    after = market_structure(holey[at:], "1h", params)
    late = whole.breaks.index >= at
    assert (whole.breaks.swing_pivot[late] >= at).all()  # no break of a swing behind the hole
    assert (whole.breaks.index[late] - at).tolist() == after.breaks.index.tolist()
    assert np.array_equal(whole.atr[at:], after.atr)
    assert (whole.swing_highs.pivot[whole.swing_highs.pivot >= at] - at).tolist() == (
        after.swing_highs.pivot.tolist()
    )
    assert (whole.equal_lows.first_pivot[whole.equal_lows.formed_index >= at] >= at).all()
