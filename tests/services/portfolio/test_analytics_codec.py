from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.services.portfolio.analytics_codec import SnapshotFormatError, decode, encode
from cryptolens.services.portfolio.analytics_model import (
    BreakdownRow,
    Drawdown,
    EquityPoint,
    Summary,
    TradeAnalytics,
)
from cryptolens.services.portfolio.analytics_rollup import DIMENSIONS, Figures

money = st.decimals(allow_nan=False, allow_infinity=False)
ratios = st.floats(allow_nan=False, allow_infinity=False)
counts = st.integers(min_value=0, max_value=10**9)
#: Aware times in any fixed offset (stored in UTC, equal as instants).
times = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.builds(
        timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
    ),
)
figures = st.builds(
    Figures,
    trades=counts,
    wins=counts,
    losses=counts,
    net_pnl=money,
    gross_profit=money,
    gross_loss=money,
    r_trades=counts,
    sum_r=ratios,
)
summaries = st.builds(
    Summary,
    figures=figures,
    open_trades=counts,
    average_win=st.none() | money,
    average_loss=st.none() | money,
    largest_win=st.none() | money,
    largest_loss=st.none() | money,
    average_win_r=st.none() | ratios,
    average_loss_r=st.none() | ratios,
    average_holding_seconds=st.none() | ratios,
)
drawdowns = st.builds(
    Drawdown,
    amount=money,
    percent=ratios,
    peak_equity=money,
    started_at=st.none() | times,
    trough_at=st.none() | times,
    recovered_at=st.none() | times,
    duration_seconds=st.integers(min_value=0, max_value=10**10),
)
keys = st.none() | st.text(max_size=40) | st.integers(min_value=0, max_value=23)
breakdowns = st.fixed_dictionaries(
    {
        name: st.lists(st.builds(BreakdownRow, keys, figures), max_size=5).map(tuple)
        for name in DIMENSIONS
    }
)
analytics = st.builds(
    TradeAnalytics,
    summary=summaries,
    drawdown=drawdowns,
    equity_curve=st.lists(st.builds(EquityPoint, times, money), max_size=20).map(tuple),
    breakdowns=breakdowns,
)


# Generating whole snapshots is slow: fewer, richer examples (the parts vary independently).
@settings(max_examples=40, deadline=None)
@given(analytics)
def test_a_snapshot_reads_back_equal_to_what_was_written(found: TradeAnalytics) -> None:
    assert decode(encode(found)) == found


@given(money)
def test_decimals_keep_their_exact_digits(value: Decimal) -> None:
    point = EquityPoint(datetime(2026, 1, 5, tzinfo=UTC), value)
    found = TradeAnalytics(
        summary=Summary(Figures(0, 0, 0, value, value, value, 0, 0.0), 0, *[None] * 7),
        drawdown=Drawdown(value, 0.0, value, None, None, None, 0),
        equity_curve=(point,),
        breakdowns={},
    )
    back = decode(encode(found))
    assert str(back.equity_curve[0].equity) == str(value)
    assert str(back.summary.figures.net_pnl) == str(value)


def test_times_are_stored_in_utc_and_read_back_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    at = datetime(2026, 1, 5, 10, 30, tzinfo=berlin)
    found = TradeAnalytics(
        summary=Summary(
            Figures(0, 0, 0, Decimal(0), Decimal(0), Decimal(0), 0, 0.0), 0, *[None] * 7
        ),
        drawdown=Drawdown(Decimal(0), 0.0, Decimal(0), at, None, None, 0),
        equity_curve=(EquityPoint(at, Decimal(1)),),
        breakdowns={},
    )
    text = encode(found)
    assert "2026-01-05T09:30:00+00:00" in text
    back = decode(text)
    assert back.equity_curve[0].at == at
    assert back.equity_curve[0].at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"format": 0}',
        '{"format": 1}',
        '{"format": 1, "summary": {}, "drawdown": {}, "curve": [], "breakdowns": {}}',
    ],
)
def test_text_that_is_not_a_snapshot_of_this_format_is_refused(text: str) -> None:
    with pytest.raises(SnapshotFormatError):
        decode(text)
