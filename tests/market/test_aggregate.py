"""Candle aggregation: against pandas, UTC alignment, closure, holes, revisions, bad input."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from cryptolens.detect.candles import COLUMNS
from cryptolens.domain.errors import ValidationError
from cryptolens.market.aggregate import (
    AggregatedCandles,
    Candles,
    affected_buckets,
    aggregate_all,
    aggregate_candles,
    reaggregation_ranges,
)
from cryptolens.market.synthetic import DEFAULT_START_MS, synthetic_candles

#: pandas' name for each timeframe; the test derives every duration from these, not from the code.
PANDAS_RULE = {
    "1m": "1min",
    "5m": "5min",
    "15m": "15min",
    "30m": "30min",
    "1h": "1h",
    "2h": "2h",
    "4h": "4h",
    "1d": "1D",
}
HIGHER = ["5m", "15m", "30m", "1h", "2h", "4h", "1d"]
PRICE_FIELDS = ("open_time", "open", "high", "low", "close", "count", "complete")
ALL_FIELDS = (*PRICE_FIELDS, "volume")


def duration_ms(timeframe: str) -> int:
    return int(pd.Timedelta(PANDAS_RULE[timeframe]) // pd.Timedelta(1, "ms"))


def utc_ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def subset(candles: Candles | object, keep: np.ndarray) -> Candles:
    """The candles at the ``keep`` mask/indices, as fresh arrays."""
    return Candles.from_arrays(
        **{
            name: np.array(getattr(candles, name)[keep])
            for name in ("open_time", "open", "high", "low", "close", "volume")
        }
    )


def with_holes(n: int, *, base: str = "1m", drop: float, seed: int, offset: int = 0) -> Candles:
    """``n`` seeded synthetic candles starting ``offset`` base periods after a UTC midnight,
    with a random ``drop`` fraction removed."""
    step = duration_ms(base)
    # Generate at least 50 (the generator cannot make zero, and its volatility smoothing
    # window spans 50) and cut to n.
    raw = synthetic_candles(
        max(n, 50), seed=seed, start_ms=DEFAULT_START_MS + offset * step, step_ms=step
    )
    keep = np.random.default_rng(seed + 1).random(n) >= drop
    return subset(raw, np.flatnonzero(keep))


def hand_candles(times: Sequence[int]) -> Candles:
    """Candles at ``times`` with easy prices: candle i opens at 100 + i."""
    opens = 100.0 + np.arange(len(times), dtype=np.float64)
    return Candles.from_arrays(
        open_time=np.asarray(times, dtype=np.int64),
        open=opens,
        high=opens + 2.0,
        low=opens - 1.0,
        close=opens + 1.0,
        volume=1.0 + np.arange(len(times), dtype=np.float64),
    )


def minutes(start: str, *offsets: int) -> list[int]:
    first = utc_ms(start)
    return [first + k * 60_000 for k in offsets]


def pandas_reference(candles: Candles, *, base: str, target: str, horizon: int) -> pd.DataFrame:
    """Independent reference: a pandas resample, empty buckets dropped, unfinished ones cut."""
    index = pd.to_datetime(candles.open_time, unit="ms", utc=True)
    frame = pd.DataFrame(
        {name: getattr(candles, name) for name in ("open", "high", "low", "close", "volume")},
        index=index,
    )
    resampler = frame.resample(PANDAS_RULE[target], origin="epoch", label="left", closed="left")
    out = pd.DataFrame(
        {
            "open": resampler["open"].first(),
            "high": resampler["high"].max(),
            "low": resampler["low"].min(),
            "close": resampler["close"].last(),
            "volume": resampler["volume"].sum(),
            "count": resampler["close"].count(),
        }
    )
    end = out.index + pd.Timedelta(PANDAS_RULE[target])
    out = out[(out["count"] > 0) & (end <= pd.Timestamp(horizon, unit="ms", tz="UTC"))]
    return out.assign(
        open_time=out.index.as_unit("ms").asi8,
        complete=out["count"] == duration_ms(target) // duration_ms(base),
    ).reset_index(drop=True)


def assert_matches_reference(result: AggregatedCandles, reference: pd.DataFrame) -> None:
    assert len(result) == len(reference)
    for name in PRICE_FIELDS:
        np.testing.assert_array_equal(getattr(result, name), reference[name].to_numpy(), name)
    np.testing.assert_allclose(result.volume, reference["volume"].to_numpy(), rtol=1e-12)


def assert_same(left: AggregatedCandles, right: AggregatedCandles, *, exact_volume: bool) -> None:
    assert (left.timeframe, left.expected) == (right.timeframe, right.expected)
    for name in PRICE_FIELDS:
        np.testing.assert_array_equal(getattr(left, name), getattr(right, name), name)
    if exact_volume:
        np.testing.assert_array_equal(left.volume, right.volume, "volume")
    else:
        np.testing.assert_allclose(left.volume, right.volume, rtol=1e-12)


def rows(result: AggregatedCandles) -> dict[int, tuple[float | int | bool, ...]]:
    frame = result.to_frame()
    return {int(r.open_time): tuple(r)[1:] for r in frame.itertuples(index=False)}


# --- equality with pandas -------------------------------------------------------------------


@pytest.fixture(scope="module")
def holey_minutes() -> Candles:
    """Three days and a bit of 1m candles, starting 13 minutes after midnight, with 3% random
    holes and one whole missing hour."""
    candles = with_holes(3 * 1440 + 437, drop=0.03, seed=7, offset=13)
    hour = utc_ms("2024-01-02 05:00")
    return subset(candles, (candles.open_time < hour) | (candles.open_time >= hour + 3_600_000))


@pytest.mark.parametrize("target", HIGHER)
def test_each_target_equals_a_pandas_resample_of_the_same_candles(
    holey_minutes: Candles, target: str
) -> None:
    horizon = int(holey_minutes.open_time[-1]) + 60_000
    reference = pandas_reference(holey_minutes, base="1m", target=target, horizon=horizon)
    direct = aggregate_candles(holey_minutes, base_timeframe="1m", target_timeframe=target)
    every = aggregate_all(holey_minutes, base_timeframe="1m", targets=HIGHER)
    assert_matches_reference(direct, reference)
    assert_matches_reference(every[target], reference)
    assert direct.expected == duration_ms(target) // 60_000
    assert not reference["complete"].all()  # the holes reach every timeframe


@pytest.mark.parametrize("target", ["2h", "4h", "1d"])
def test_hourly_base_data_aggregates_like_a_pandas_resample(target: str) -> None:
    candles = with_holes(24 * 20 + 5, base="1h", drop=0.05, seed=11, offset=3)
    horizon = int(candles.open_time[-1]) + 3_600_000
    reference = pandas_reference(candles, base="1h", target=target, horizon=horizon)
    result = aggregate_candles(candles, base_timeframe="1h", target_timeframe=target)
    assert_matches_reference(result, reference)
    assert result.expected == duration_ms(target) // 3_600_000


def test_synthetic_candles_can_be_passed_directly_and_default_to_every_higher_target() -> None:
    raw = synthetic_candles(3000, seed=3)
    result = aggregate_all(raw, base_timeframe="1m")
    assert list(result) == HIGHER
    copied = subset(raw, np.arange(len(raw)))
    for target in HIGHER:
        assert_same(
            result[target],
            aggregate_candles(copied, base_timeframe="1m", target_timeframe=target),
            exact_volume=True,
        )


def test_an_hourly_base_defaults_to_the_timeframes_above_it() -> None:
    candles = with_holes(100, base="1h", drop=0.0, seed=1)
    assert list(aggregate_all(candles, base_timeframe="1h")) == ["2h", "4h", "1d"]


# --- UTC alignment --------------------------------------------------------------------------


def test_daily_buckets_start_at_midnight_utc_and_4h_buckets_every_four_hours_from_it() -> None:
    start = utc_ms("2024-03-10 05:37")
    raw = synthetic_candles(5 * 1440, start_ms=start)
    result = aggregate_all(raw, base_timeframe="1m", targets=["4h", "1d"])
    days = pd.to_datetime(result["1d"].open_time, unit="ms", utc=True)
    fours = pd.to_datetime(result["4h"].open_time, unit="ms", utc=True)
    assert days[0] == pd.Timestamp("2024-03-10", tz="UTC")
    assert ((days.hour == 0) & (days.minute == 0)).all()
    assert fours[0] == pd.Timestamp("2024-03-10 04:00", tz="UTC")
    assert set(fours.hour) == {0, 4, 8, 12, 16, 20}
    assert (fours.minute == 0).all()
    # The first day and the first 4h bucket began before the data did: incomplete, not shifted.
    assert result["1d"].count[0] == 1440 - (5 * 60 + 37)
    assert not result["1d"].complete[0]
    assert result["4h"].count[0] == 4 * 60 - (60 + 37)


# --- closure ------------------------------------------------------------------------------


def test_a_trailing_bucket_still_forming_is_not_emitted() -> None:
    candles = hand_candles(minutes("2024-05-01 10:00", *range(8)))
    result = aggregate_candles(candles, base_timeframe="1m", target_timeframe="5m")
    assert result.open_time.tolist() == [utc_ms("2024-05-01 10:00")]
    assert result.open.tolist() == [100.0]
    assert result.close.tolist() == [105.0]
    assert result.high.tolist() == [106.0]
    assert result.low.tolist() == [99.0]
    assert result.volume.tolist() == [1.0 + 2 + 3 + 4 + 5]
    assert result.count.tolist() == [5]
    assert result.complete.tolist() == [True]


def test_a_trailing_bucket_is_emitted_incomplete_once_now_passes_its_end() -> None:
    candles = hand_candles(minutes("2024-05-01 10:00", *range(8)))
    end = utc_ms("2024-05-01 10:10")
    before = aggregate_candles(candles, base_timeframe="1m", target_timeframe="5m", now_ms=end - 1)
    after = aggregate_candles(candles, base_timeframe="1m", target_timeframe="5m", now_ms=end)
    assert len(before) == 1
    assert after.open_time.tolist() == [utc_ms("2024-05-01 10:00"), utc_ms("2024-05-01 10:05")]
    assert after.count.tolist() == [5, 3]
    assert after.complete.tolist() == [True, False]
    assert after.close.tolist() == [105.0, 108.0]


def test_now_before_the_last_candle_closes_holds_back_its_bucket() -> None:
    candles = hand_candles(minutes("2024-05-01 10:00", *range(5)))
    assert len(aggregate_candles(candles, base_timeframe="1m", target_timeframe="5m")) == 1
    forming = aggregate_candles(
        candles,
        base_timeframe="1m",
        target_timeframe="5m",
        now_ms=utc_ms("2024-05-01 10:04:30"),
    )
    assert len(forming) == 0


def test_a_trailing_bucket_whose_last_slot_is_present_is_emitted_despite_an_earlier_hole() -> None:
    candles = hand_candles(minutes("2024-05-01 10:00", 0, 1, 3, 4))
    result = aggregate_candles(candles, base_timeframe="1m", target_timeframe="5m")
    assert result.count.tolist() == [4]
    assert result.complete.tolist() == [False]


def test_a_known_hole_at_the_exchange_closes_the_trailing_bucket() -> None:
    candles = hand_candles(minutes("2024-05-01 10:00", 0, 1, 2, 3))
    assert len(aggregate_candles(candles, base_timeframe="1m", target_timeframe="5m")) == 0
    result = aggregate_candles(
        candles,
        base_timeframe="1m",
        target_timeframe="5m",
        known_holes=minutes("2024-05-01 10:00", 4),
    )
    assert result.count.tolist() == [4]
    assert result.complete.tolist() == [False]


def test_nothing_is_emitted_for_no_candles_unless_there_is_a_bucket_to_fill() -> None:
    empty = hand_candles([])
    assert len(aggregate_candles(empty, base_timeframe="1m", target_timeframe="1h")) == 0
    result = aggregate_all(empty, base_timeframe="1m", now_ms=utc_ms("2030-01-01"))
    assert all(len(r) == 0 for r in result.values())


# --- holes --------------------------------------------------------------------------------


def test_an_exchange_hole_inside_the_data_marks_its_buckets_incomplete() -> None:
    present = [k for k in range(16) if k != 2]
    candles = hand_candles(minutes("2024-05-01 10:00", *present))
    result = aggregate_all(candles, base_timeframe="1m", targets=["5m", "15m"])
    five, fifteen = result["5m"], result["15m"]
    assert five.count.tolist() == [4, 5, 5]
    assert five.complete.tolist() == [False, True, True]
    assert five.expected == 5
    assert fifteen.count.tolist() == [14]
    assert fifteen.expected == 15
    assert fifteen.complete.tolist() == [False]
    # The bucket's open is its first present candle's; the hole changes nothing else about it.
    assert five.open[0] == 100.0
    assert five.close[0] == 104.0


def test_a_bucket_without_any_candle_is_not_emitted() -> None:
    present = [k for k in range(15) if not 5 <= k < 10]
    candles = hand_candles(minutes("2024-05-01 10:00", *present))
    result = aggregate_candles(candles, base_timeframe="1m", target_timeframe="5m")
    assert result.open_time.tolist() == minutes("2024-05-01 10:00", 0, 10)


# --- revisions ----------------------------------------------------------------------------


def revise(candles: Candles, index: int) -> Candles:
    """A copy of ``candles`` with candle ``index`` revised: new top, close and volume."""
    columns = {name: np.array(getattr(candles, name)) for name in COLUMNS}
    columns["high"][index] = float(candles.high.max()) * 1.01
    columns["close"][index] *= 1.001
    columns["volume"][index] += 7.5
    return Candles.from_arrays(**columns)


def backfill(candles: Candles, open_time: int) -> Candles:
    """A copy of ``candles`` with a late candle inserted at ``open_time`` (a former hole)."""
    at = int(np.searchsorted(candles.open_time, open_time))
    assert at == len(candles) or candles.open_time[at] != open_time
    price = float(candles.close[at - 1])
    columns = {
        "open_time": np.insert(candles.open_time, at, open_time),
        "open": np.insert(candles.open, at, price),
        "high": np.insert(candles.high, at, price * 1.5),
        "low": np.insert(candles.low, at, price * 0.5),
        "close": np.insert(candles.close, at, price),
        "volume": np.insert(candles.volume, at, 3.25),
    }
    return Candles.from_arrays(**columns)


def changed_buckets(old: AggregatedCandles, new: AggregatedCandles) -> set[int]:
    before, after = rows(old), rows(new)
    return {t for t in before.keys() | after.keys() if before.get(t) != after.get(t)}


@pytest.mark.parametrize("change", ["revision", "backfill"])
def test_a_changed_base_candle_changes_exactly_the_buckets_that_contain_it(
    holey_minutes: Candles, change: str
) -> None:
    day_two = utc_ms("2024-01-02 13:00")
    if change == "revision":
        index = int(np.searchsorted(holey_minutes.open_time, day_two))
        changed_time = int(holey_minutes.open_time[index])
        new = revise(holey_minutes, index)
    else:
        gaps = np.flatnonzero(np.diff(holey_minutes.open_time) > 60_000)
        gap = int(gaps[np.searchsorted(holey_minutes.open_time[gaps], day_two)])
        changed_time = int(holey_minutes.open_time[gap]) + 60_000
        new = backfill(holey_minutes, changed_time)
    snapshot = {name: getattr(holey_minutes, name).copy() for name in ("open_time", "volume")}
    old_result = aggregate_all(holey_minutes, base_timeframe="1m", targets=HIGHER)
    new_result = aggregate_all(new, base_timeframe="1m", targets=HIGHER)
    for target in HIGHER:
        expected = {int(t) for t in affected_buckets([changed_time], target)}
        bucket = changed_time - changed_time % duration_ms(target)
        assert expected == {bucket}
        assert changed_buckets(old_result[target], new_result[target]) == expected, target
    for name, before in snapshot.items():
        np.testing.assert_array_equal(getattr(holey_minutes, name), before)


def test_affected_buckets_are_the_unique_sorted_buckets_of_the_revised_times() -> None:
    revised = minutes("2024-05-01 10:00", 61, 3, 7, 4)
    assert affected_buckets(revised, "5m").tolist() == minutes("2024-05-01 10:00", 0, 5, 60)
    assert affected_buckets(revised, "1h").tolist() == minutes("2024-05-01 10:00", 0, 60)
    assert affected_buckets(np.array([], dtype=np.int64), "1h").tolist() == []


def test_reaggregation_ranges_cover_the_largest_affected_bucket_and_merge_overlaps() -> None:
    day = 86_400_000
    start = utc_ms("2024-05-01")
    revised = [start + 61 * 60_000, start + 7 * 60_000, start + 3 * day + 5]
    assert reaggregation_ranges(revised, ["5m", "1h"]) == [
        (start, start + 2 * 3_600_000),
        (start + 3 * day, start + 3 * day + 3_600_000),
    ]
    assert reaggregation_ranges(revised, ["5m", "1d"]) == [
        (start, start + day),
        (start + 3 * day, start + 4 * day),
    ]
    touching = [start + 60_000, start + 6 * 60_000]
    assert reaggregation_ranges(touching, ["5m"]) == [(start, start + 600_000)]
    assert reaggregation_ranges([], HIGHER) == []


def test_reaggregating_only_the_revised_ranges_equals_a_full_reaggregation(
    holey_minutes: Candles,
) -> None:
    indices = [40, 41, 1200, 3300]
    new = holey_minutes
    for index in indices:
        new = revise(new, index)
    revised = holey_minutes.open_time[indices]
    horizon = int(new.open_time[-1]) + 60_000
    full = aggregate_all(new, base_timeframe="1m", targets=HIGHER)
    ranges = reaggregation_ranges(revised, HIGHER)
    # Three revisions on day one share its window; day three's is separate (day two is not
    # affected, so the two windows do not touch).
    assert len(ranges) == 2
    for start, end in ranges:
        window = subset(new, (new.open_time >= start) & (new.open_time < end))
        partial = aggregate_all(window, base_timeframe="1m", targets=HIGHER, now_ms=horizon)
        for target in HIGHER:
            inside = (full[target].open_time >= start) & (full[target].open_time < end)
            expected = subset_result(full[target], inside)
            assert_same(partial[target], expected, exact_volume=False)
            touched = affected_buckets(revised[(revised >= start) & (revised < end)], target)
            assert np.isin(touched, partial[target].open_time).all(), target


def subset_result(result: AggregatedCandles, keep: np.ndarray) -> AggregatedCandles:
    return AggregatedCandles(
        timeframe=result.timeframe,
        base_timeframe=result.base_timeframe,
        expected=result.expected,
        **{name: getattr(result, name)[keep] for name in ALL_FIELDS},
    )


# --- properties ---------------------------------------------------------------------------

TARGETS_ABOVE = {
    "1m": HIGHER,
    "5m": ["15m", "30m", "1h", "2h", "4h", "1d"],
    "1h": ["2h", "4h", "1d"],
}


@st.composite
def candle_sets(draw: st.DrawFn) -> tuple[Candles, str, list[str], int | None]:
    base = draw(st.sampled_from(["1m", "1m", "5m", "1h"]))
    n = draw(st.integers(0, 600))
    drop = draw(st.sampled_from([0.0, 0.02, 0.3, 0.9]))
    seed = draw(st.integers(0, 2**31))
    offset = draw(st.integers(0, 2 * 1440))
    candles = with_holes(n, base=base, drop=drop, seed=seed, offset=offset)
    targets = draw(st.lists(st.sampled_from(TARGETS_ABOVE[base]), min_size=1, unique=True))
    now_ms = None
    if draw(st.booleans()):
        anchor = int(candles.open_time[-1]) if len(candles) else DEFAULT_START_MS
        now_ms = anchor + draw(st.integers(-2 * 86_400_000, 2 * 86_400_000))
    return candles, base, targets, now_ms


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(candle_sets())
def test_hierarchical_aggregation_equals_direct_aggregation_for_every_target(
    case: tuple[Candles, str, list[str], int | None],
) -> None:
    candles, base, targets, now_ms = case
    every = aggregate_all(candles, base_timeframe=base, targets=targets, now_ms=now_ms)
    assert list(every) == targets
    for target in targets:
        direct = aggregate_candles(
            candles, base_timeframe=base, target_timeframe=target, now_ms=now_ms
        )
        assert_same(every[target], direct, exact_volume=True)


def brute_force(
    candles: Candles, *, base: str, target: str, horizon: int | None
) -> list[tuple[int, float, float, float, float, float, int, bool]]:
    """Bucket by bucket in plain Python, straight from the rules in the issue."""
    step = duration_ms(target)
    groups: dict[int, list[int]] = {}
    for i, t in enumerate(candles.open_time.tolist()):
        groups.setdefault(t - t % step, []).append(i)
    out = []
    for bucket, members in groups.items():
        if horizon is None or bucket + step > horizon:
            continue
        out.append(
            (
                bucket,
                float(candles.open[members[0]]),
                max(float(candles.high[i]) for i in members),
                min(float(candles.low[i]) for i in members),
                float(candles.close[members[-1]]),
                math.fsum(float(candles.volume[i]) for i in members),
                len(members),
                len(members) == step // duration_ms(base),
            )
        )
    return out


@PROPERTY
@given(candle_sets())
def test_emits_every_bucket_whose_period_has_ended_and_none_that_has_not(
    case: tuple[Candles, str, list[str], int | None],
) -> None:
    candles, base, targets, now_ms = case
    horizon = now_ms
    if horizon is None and len(candles):
        horizon = int(candles.open_time[-1]) + duration_ms(base)
    every = aggregate_all(candles, base_timeframe=base, targets=targets, now_ms=now_ms)
    for target in targets:
        expected = brute_force(candles, base=base, target=target, horizon=horizon)
        result = every[target]
        if horizon is not None:
            assert (result.open_time + duration_ms(target) <= horizon).all()
        got = list(
            zip(
                result.open_time.tolist(),
                result.open.tolist(),
                result.high.tolist(),
                result.low.tolist(),
                result.close.tolist(),
                result.volume.tolist(),
                result.count.tolist(),
                result.complete.tolist(),
                strict=True,
            )
        )
        assert [row[:5] + row[6:] for row in got] == [row[:5] + row[6:] for row in expected]
        np.testing.assert_allclose([r[5] for r in got], [r[5] for r in expected], rtol=1e-12)


# --- bad input ----------------------------------------------------------------------------


def aggregate_5m(candles: Candles) -> AggregatedCandles:
    return aggregate_candles(candles, base_timeframe="1m", target_timeframe="5m")


def test_unsorted_open_times_are_rejected_naming_the_offending_index() -> None:
    with pytest.raises(ValidationError, match=r"strictly increasing; index 2 .* does not follow"):
        hand_candles(minutes("2024-05-01 10:00", 0, 2, 1, 3))


def test_duplicate_open_times_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"duplicate open_time .* indices 1 and 2"):
        hand_candles(minutes("2024-05-01 10:00", 0, 1, 1, 2))


def test_open_times_off_the_base_grid_are_rejected() -> None:
    candles = hand_candles([*minutes("2024-05-01 10:00", 0, 1), utc_ms("2024-05-01 10:02:30")])
    with pytest.raises(ValidationError, match=r"index 2 is not aligned to the base timeframe '1m'"):
        aggregate_5m(candles)


@pytest.mark.parametrize(("base", "target"), [("1h", "30m"), ("1h", "5m"), ("4h", "1h")])
def test_a_target_that_is_not_a_whole_multiple_of_the_base_is_rejected(
    base: str, target: str
) -> None:
    candles = with_holes(10, base=base, drop=0.0, seed=1)
    with pytest.raises(ValidationError, match=f"'{target}' .* not a whole multiple .* '{base}'"):
        aggregate_candles(candles, base_timeframe=base, target_timeframe=target)
    with pytest.raises(ValidationError, match="not a whole multiple"):
        aggregate_all(candles, base_timeframe=base, targets=["1d", target])


def test_unknown_timeframes_are_rejected_wherever_they_appear() -> None:
    candles = hand_candles(minutes("2024-05-01 10:00", 0, 1))
    with pytest.raises(ValidationError, match="unknown timeframe '3m'"):
        aggregate_candles(candles, base_timeframe="3m", target_timeframe="1h")
    with pytest.raises(ValidationError, match="unknown timeframe '1w'"):
        aggregate_candles(candles, base_timeframe="1m", target_timeframe="1w")
    with pytest.raises(ValidationError, match="unknown timeframe '7m'"):
        aggregate_all(candles, base_timeframe="1m", targets=["5m", "7m"])
    with pytest.raises(ValidationError, match="unknown timeframe '1w'"):
        affected_buckets([0], "1w")
    with pytest.raises(ValidationError, match="unknown timeframe '1w'"):
        reaggregation_ranges([0], ["1h", "1w"])


def test_malformed_columns_are_rejected() -> None:
    good = hand_candles(minutes("2024-05-01 10:00", 0, 1, 2))
    with pytest.raises(ValidationError, match="differ in length"):
        Candles.from_arrays(
            open_time=good.open_time,
            open=good.open,
            high=good.high[:2],
            low=good.low,
            close=good.close,
            volume=good.volume,
        )
    with pytest.raises(ValidationError, match="integer epoch milliseconds"):
        Candles.from_arrays(
            open_time=good.open_time.astype(np.float64),
            open=good.open,
            high=good.high,
            low=good.low,
            close=good.close,
            volume=good.volume,
        )


def test_known_holes_must_be_on_the_grid_and_absent_from_the_data() -> None:
    candles = hand_candles(minutes("2024-05-01 10:00", 0, 1, 2))
    with pytest.raises(ValidationError, match="is present in the data"):
        aggregate_5m_with_holes(candles, minutes("2024-05-01 10:00", 4, 1))
    with pytest.raises(ValidationError, match="not aligned"):
        aggregate_5m_with_holes(candles, [utc_ms("2024-05-01 10:03:01")])


def aggregate_5m_with_holes(candles: Candles, holes: Iterable[int]) -> AggregatedCandles:
    return aggregate_candles(
        candles, base_timeframe="1m", target_timeframe="5m", known_holes=list(holes)
    )


# --- frames -------------------------------------------------------------------------------


def test_candle_arrays_round_trip_through_a_frame() -> None:
    candles = with_holes(50, drop=0.2, seed=5)
    back = Candles.from_frame(candles.to_frame())
    for name in ("open_time", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(back, name), getattr(candles, name))
    assert back.open_time.dtype == np.int64
    assert len(back) == len(candles)


def test_a_frame_indexed_by_utc_datetimes_is_read_as_epoch_milliseconds() -> None:
    candles = with_holes(20, drop=0.0, seed=5)
    frame = candles.to_frame().drop(columns="open_time")
    frame.index = pd.to_datetime(candles.open_time, unit="ms", utc=True).tz_convert("Asia/Tokyo")
    back = Candles.from_frame(frame)
    np.testing.assert_array_equal(back.open_time, candles.open_time)
    with pytest.raises(ValidationError, match="missing columns: volume"):
        Candles.from_frame(frame.drop(columns="volume"))


def test_an_aggregate_frame_carries_counts_and_completeness() -> None:
    present = [k for k in range(10) if k != 6]
    candles = hand_candles(minutes("2024-05-01 10:00", *present))
    frame = aggregate_5m(candles).to_frame()
    assert list(frame.columns) == [
        "open_time",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "count",
        "expected",
        "complete",
    ]
    assert frame["count"].tolist() == [5, 4]
    assert frame["expected"].tolist() == [5, 5]
    assert frame["complete"].tolist() == [True, False]


def test_a_frame_with_naive_datetimes_or_nullable_integers_reads_as_utc_epoch_ms() -> None:
    candles = with_holes(10, drop=0.0, seed=9)
    frame = candles.to_frame()
    frame["open_time"] = pd.to_datetime(candles.open_time, unit="ms")
    np.testing.assert_array_equal(Candles.from_frame(frame).open_time, candles.open_time)
    frame["open_time"] = pd.array(candles.open_time, dtype="Int64")
    np.testing.assert_array_equal(Candles.from_frame(frame).open_time, candles.open_time)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (pd.array([0, None, 120_000], dtype="Int64"), "cannot be read as epoch ms"),
        (np.array([0.0, 60_000.0, 120_000.0]), "integer epoch milliseconds or datetimes"),
    ],
)
def test_a_frame_with_float_or_missing_open_times_is_rejected(column: object, message: str) -> None:
    frame = hand_candles([0, 60_000, 120_000]).to_frame()
    frame["open_time"] = column
    with pytest.raises(ValidationError, match=message):
        Candles.from_frame(frame)
