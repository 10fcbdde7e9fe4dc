from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import (
    TIMEFRAME_MS,
    bucket_start,
    datetime_to_ms,
    is_closed,
    last_closed_open_time,
    ms_to_datetime,
    parse_timeframes,
    timeframe_ms,
)


def test_unknown_timeframe_is_a_validation_error_listing_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown timeframe '3m'.*1m, 5m"):
        timeframe_ms("3m")


def test_parse_timeframes_sorts_shortest_first_and_drops_duplicates() -> None:
    assert parse_timeframes(["1d", "1m", " 4h", "1m", ""]) == ("1m", "4h", "1d")


def test_daily_buckets_start_at_midnight_utc() -> None:
    moment = datetime_to_ms(datetime(2024, 3, 5, 17, 42, tzinfo=UTC))
    assert ms_to_datetime(bucket_start(moment, "1d")) == datetime(2024, 3, 5, tzinfo=UTC)
    assert ms_to_datetime(bucket_start(moment, "4h")) == datetime(2024, 3, 5, 16, tzinfo=UTC)


def test_a_candle_is_closed_only_when_its_period_has_ended() -> None:
    open_time = datetime_to_ms(datetime(2024, 1, 1, 10, tzinfo=UTC))
    assert not is_closed(open_time, "1h", open_time + 3_599_999)
    assert is_closed(open_time, "1h", open_time + 3_600_000)


@given(st.integers(min_value=0, max_value=4_000_000_000_000), st.sampled_from(list(TIMEFRAME_MS)))
def test_last_closed_candle_has_closed_and_the_next_has_not(now_ms: int, timeframe: str) -> None:
    last = last_closed_open_time(now_ms, timeframe)
    assert is_closed(last, timeframe, now_ms)
    assert not is_closed(last + timeframe_ms(timeframe), timeframe, now_ms)
    assert last % timeframe_ms(timeframe) == 0


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert datetime_to_ms(datetime(1970, 1, 1, 0, 1)) == 60_000
