from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.backtest.params import PARAMS, run_params
from cryptolens.config import Settings
from cryptolens.detect import Candles
from cryptolens.services.backtests.pages import (
    MAX_CHART_BARS,
    StoredRange,
    chart_timeframe,
    default_values,
    price_chart,
    stored_ranges,
    trade_markers,
)
from cryptolens.services.backtests.run import check_request
from cryptolens.services.backtests.store import create_run, run_view
from cryptolens.signals import DEFAULT_SIGNAL_PARAMS

HOUR = 3_600_000
TIMEFRAMES = ("1h", "2h", "4h", "1d")


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (1, "1h"),
        (83, "1h"),
        (84, "2h"),
        (166, "2h"),
        (167, "4h"),
        (333, "4h"),
        (334, "1d"),
        (9000, "1d"),
    ],
)
def test_the_chart_takes_the_finest_timeframe_that_fits_two_thousand_bars(
    days: int, expected: str
) -> None:
    assert chart_timeframe(TIMEFRAMES, days * 24 * HOUR) == expected


def test_timeframes_are_ordered_by_length_not_by_name() -> None:
    assert chart_timeframe(("1d", "4h", "1h"), 10 * 24 * HOUR) == "1h"


def _trade(direction: str, entry: str, exit_: str, pnl: float) -> dict[str, object]:
    return {
        "direction": direction,
        "entry_time": entry,
        "exit_time": exit_,
        "pnl": pnl,
        "exit_reason": "stop",
    }


def test_markers_sit_on_the_bar_that_holds_each_entry_and_exit_in_time_order() -> None:
    bars = [0, 14_400, 28_800, 43_200]  # 4h bars from the epoch, in seconds
    trades = [
        _trade("bearish", "1970-01-01T09:00:00Z", "1970-01-01T13:30:00Z", -5.0),
        _trade("bullish", "1970-01-01T01:00:00Z", "1970-01-01T05:00:00Z", 12.0),
    ]
    markers = trade_markers(trades, bars)
    assert [(m["time"], m["shape"], m.get("text")) for m in markers] == [
        (0, "arrowUp", "#2"),
        (14_400, "circle", None),
        (28_800, "arrowDown", "#1"),
        (43_200, "circle", None),
    ]
    assert [m["color"] for m in markers if m["shape"] == "circle"] == ["#26a69a", "#ef5350"]


def test_a_trade_before_the_first_bar_has_no_marker() -> None:
    trades = [_trade("bullish", "1970-01-01T01:00:00Z", "1970-01-01T02:00:00Z", 1.0)]
    assert trade_markers(trades, [14_400]) == []


def test_the_defaults_are_the_values_a_run_uses_when_nothing_is_set() -> None:
    values = default_values(DEFAULT_SIGNAL_PARAMS)
    assert set(values) <= set(PARAMS)
    chosen = run_params(values)
    assert chosen.signals == DEFAULT_SIGNAL_PARAMS
    assert chosen.execution == run_params({}).execution


def test_the_default_range_is_the_newest_ninety_days_within_the_stored_ones() -> None:
    stored = StoredRange("BTC/USDT", date(2024, 1, 1), date(2024, 12, 31))
    assert stored.default_since() == date(2024, 10, 3)
    short = StoredRange("BTC/USDT", date(2024, 12, 1), date(2024, 12, 31))
    assert short.default_since() == date(2024, 12, 1)


@pytest.mark.db
def test_stored_ranges_and_the_price_chart_of_a_run(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    request = check_request(
        symbol="BTC/USDT",
        since=datetime(2017, 7, 2, tzinfo=UTC),
        until=datetime(2017, 9, 29, tzinfo=UTC),
        params={},
    )
    with Session(migrated_engine) as session:
        assert stored_ranges(session, scan_settings) == [
            StoredRange("BTC/USDT", date(2017, 7, 1), date(2017, 9, 29))
        ]
        row = create_run(session, user_id=None, request=request)
        chart = price_chart(session, scan_settings, run_view(row))
        session.rollback()
    assert chart.timeframe == "2h"  # 89 days of hours would be 2,136 bars
    assert len(chart.bars) == 89 * 12 <= MAX_CHART_BARS
    assert chart.bars[0]["time"] == int(request.since.timestamp())
    assert chart.markers == []
