"""Row validation: what is kept, what is rejected and why, and closed-candle filtering."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.domain.errors import ValidationError
from cryptolens.market.validation import (
    Candles,
    RejectReason,
    closed_only,
    merge_rejects,
    validate_ohlcv,
)

M = 60_000
T = 1_704_067_200_000


def row(
    i: int, o: float = 10.0, h: float = 12.0, low: float = 9.0, c: float = 11.0, v: float = 5.0
):
    return [T + i * M, o, h, low, c, v]


def test_clean_rows_come_back_sorted_as_arrays_with_no_rejects() -> None:
    rows = [row(2), row(0), row(1, c=10.5)]
    result = validate_ohlcv(rows, "1m")
    assert result.rejected == 0
    assert result.candles.open_time.tolist() == [T, T + M, T + 2 * M]
    assert result.candles.close.tolist() == [11.0, 10.5, 11.0]
    assert result.candles.open_time.dtype == np.int64


def test_binance_raw_rows_with_string_numbers_and_extra_fields_are_read() -> None:
    raw = [[T, "10.5", "12", "9", "11", "3.25", T + M - 1, "1", 3, "1", "1", "0"]]
    result = validate_ohlcv(raw, "1m")
    assert result.candles.to_rows() == [[T, 10.5, 12.0, 9.0, 11.0, 3.25]]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ([T, 10, 12, 9], RejectReason.MALFORMED),
        (["soon", 10, 12, 9, 11, 1], RejectReason.MALFORMED),
        ([T + 0.5, 10, 12, 9, 11, 1], RejectReason.MALFORMED),
        ([T, "abc", 12, 9, 11, 1], RejectReason.NON_NUMERIC),
        ([T, None, 12, 9, 11, 1], RejectReason.NON_NUMERIC),
        ([T, True, 12, 9, 11, 1], RejectReason.NON_NUMERIC),
        ([T, 10, 12, 9, math.nan, 1], RejectReason.NOT_FINITE),
        ([T, 10, math.inf, 9, 11, 1], RejectReason.NOT_FINITE),
        ([T, 10, 12, 9, 11, "NaN"], RejectReason.NOT_FINITE),
        ([T + 1000, 10, 12, 9, 11, 1], RejectReason.MISALIGNED),
        ([T, 10, 12, -9, 11, 1], RejectReason.NON_POSITIVE_PRICE),
        ([T, 0, 12, 0, 11, 1], RejectReason.NON_POSITIVE_PRICE),
        ([T, 10, 12, 9, 11, -1], RejectReason.NEGATIVE_VOLUME),
        ([T, 10, 8, 9, 8.5, 1], RejectReason.HIGH_BELOW_LOW),
        ([T, 13, 12, 9, 11, 1], RejectReason.OPEN_CLOSE_OUTSIDE_RANGE),
        ([T, 10, 12, 9, 8, 1], RejectReason.OPEN_CLOSE_OUTSIDE_RANGE),
    ],
)
def test_each_kind_of_bad_row_is_rejected_with_its_reason(
    bad: list[object], reason: RejectReason
) -> None:
    result = validate_ohlcv([bad, row(1)], "1m")
    assert dict(result.rejects) == {reason: 1}
    assert result.candles.open_time.tolist() == [T + M]


def test_zero_volume_is_a_valid_candle() -> None:
    assert validate_ohlcv([row(0, v=0.0)], "1m").rejected == 0


def test_exact_duplicates_keep_the_first_copy_and_count_the_rest() -> None:
    result = validate_ohlcv([row(0), row(1), row(0), row(0)], "1m")
    assert dict(result.rejects) == {RejectReason.DUPLICATE: 2}
    assert result.candles.open_time.tolist() == [T, T + M]


def test_conflicting_duplicates_are_all_rejected_rather_than_guessed() -> None:
    result = validate_ohlcv([row(0), row(1), row(0, c=10.0)], "1m")
    assert dict(result.rejects) == {RejectReason.CONFLICTING_DUPLICATE: 2}
    assert result.candles.open_time.tolist() == [T + M]


def test_an_invalid_copy_does_not_make_its_valid_twin_a_conflict() -> None:
    result = validate_ohlcv([row(0), [T, "abc", 12, 9, 11, 1]], "1m")
    assert dict(result.rejects) == {RejectReason.NON_NUMERIC: 1}
    assert len(result.candles) == 1


def test_alignment_is_checked_against_the_timeframe() -> None:
    rows = [[T + 5 * M, 10, 12, 9, 11, 1], [T + 7 * M, 10, 12, 9, 11, 1]]
    result = validate_ohlcv(rows, "5m")
    assert dict(result.rejects) == {RejectReason.MISALIGNED: 1}


def test_an_unknown_timeframe_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        validate_ohlcv([row(0)], "7m")


def test_empty_input_gives_empty_columns() -> None:
    result = validate_ohlcv([], "1h")
    assert len(result.candles) == 0
    assert result.candles.close.dtype == np.float64


def test_closed_only_drops_candles_whose_period_has_not_ended() -> None:
    candles = validate_ohlcv([row(0), row(1), row(2)], "1m").candles
    now = T + 2 * M + 30_000  # the third candle is half-way through
    assert closed_only(candles, "1m", now).open_time.tolist() == [T, T + M]
    assert closed_only(candles, "1m", T + 3 * M).open_time.tolist() == [T, T + M, T + 2 * M]


def test_merge_rejects_adds_counts_per_reason() -> None:
    total = merge_rejects(
        {RejectReason.DUPLICATE: 1}, {RejectReason.DUPLICATE: 2, RejectReason.MISALIGNED: 1}
    )
    assert dict(total) == {RejectReason.DUPLICATE: 3, RejectReason.MISALIGNED: 1}


def test_candles_concat_and_same_as_compare_exactly() -> None:
    a = validate_ohlcv([row(0)], "1m").candles
    b = validate_ohlcv([row(1)], "1m").candles
    joined = Candles.concat([a, Candles.empty(), b])
    assert joined.same_as(validate_ohlcv([row(0), row(1)], "1m").candles)
    assert not joined.same_as(validate_ohlcv([row(0), row(1, c=11.5)], "1m").candles)


cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(min_value=-5, max_value=50),
    st.sampled_from(["abc", "1.5", "NaN", None]),
)
raw_row = st.tuples(
    st.integers(min_value=0, max_value=20).map(lambda i: T + i * M // 2), *[cell] * 5
)


@given(st.lists(raw_row.map(list), max_size=40))
def test_every_row_is_either_kept_once_or_counted_as_rejected(rows: list[list[object]]) -> None:
    result = validate_ohlcv(rows, "1m")
    c = result.candles
    assert len(c) + result.rejected == len(rows)
    assert (np.diff(c.open_time) > 0).all()
    assert (c.open_time % M == 0).all()
    assert np.isfinite(np.stack([c.open, c.high, c.low, c.close, c.volume])).all()
    assert (c.low > 0).all()
    assert (c.volume >= 0).all()
    assert (c.low <= np.minimum(c.open, c.close)).all()
    assert (c.high >= np.maximum(c.open, c.close)).all()


def test_candles_from_rows_keeps_open_times_exact() -> None:
    rows = [[T, 1.0, 2.0, 0.5, 1.5, 3.0], [T + M, 1.5, 2.5, 1.0, 2.0, 4.0]]
    candles = Candles.from_rows(rows)
    assert candles.to_rows() == rows
    assert candles.open_time.dtype == np.int64
    assert len(Candles.from_rows([])) == 0
