"""The landing page's sample chart laid out as shapes: prices top to bottom, zones from
their forming candle to their end, clipped to the drawing."""

from __future__ import annotations

import pytest

from cryptolens.services.views.chart import ChartCandles, ChartZone
from cryptolens.services.views.landing import layout_chart

H = 3_600_000


def _candles(closes: list[float]) -> ChartCandles:
    n = len(closes)
    opens = closes[:1] + closes[:-1]
    return ChartCandles(
        symbol="BTC/USDT",
        timeframe="1h",
        open_time=tuple(i * H for i in range(n)),
        open=tuple(opens),
        high=tuple(max(o, c) + 1 for o, c in zip(opens, closes, strict=True)),
        low=tuple(min(o, c) - 1 for o, c in zip(opens, closes, strict=True)),
        close=tuple(closes),
        volume=(1.0,) * n,
    )


def _zone(low: float, high: float, start: int, end: int | None, direction: str) -> ChartZone:
    return ChartZone(1, "fvg", direction, low, high, start * H, start * H, end, "active", 0.5)


def test_no_candles_no_chart() -> None:
    assert layout_chart(_candles([]), []) is None


def test_the_highest_high_is_at_the_top_and_the_lowest_low_at_the_bottom() -> None:
    chart = layout_chart(_candles([100, 110, 90, 105]), [], width=100, height=100, pad=0)
    assert chart is not None
    assert (chart.price_high, chart.price_low) == (111, 89)
    assert chart.candles[1].high_y == pytest.approx(0)
    assert chart.candles[2].low_y == pytest.approx(100)
    assert [c.rising for c in chart.candles] == [True, True, False, True]
    assert [c.x for c in chart.candles] == pytest.approx([12.5, 37.5, 62.5, 87.5])


def test_a_zone_runs_from_its_candle_to_its_end_or_the_right_edge() -> None:
    zones = [_zone(95, 100, 1, 3 * H, "bullish"), _zone(100, 105, 2, None, "bearish")]
    chart = layout_chart(_candles([100, 110, 90, 105]), zones, width=100, height=100, pad=0)
    assert chart is not None
    ended, open_ = chart.zones
    assert (ended.x, ended.width, ended.bullish) == (25, 75, True)
    assert (open_.x, open_.width, open_.bullish) == (50, 50, False)
    assert ended.y == pytest.approx((111 - 100) / 22 * 100)
    assert ended.height == pytest.approx(5 / 22 * 100)


def test_zones_outside_the_window_are_clipped_or_left_out() -> None:
    zones = [
        _zone(200, 300, 0, None, "bearish"),  # above every price
        _zone(80, 95, 0, None, "bullish"),  # reaches below the lowest low
        _zone(95, 100, 9, None, "bullish"),  # forms after the last candle
    ]
    chart = layout_chart(_candles([100, 110, 90, 105]), zones, width=100, height=100, pad=0)
    assert chart is not None
    (clipped,) = chart.zones
    assert clipped.y + clipped.height == pytest.approx(100)


def test_flat_prices_do_not_divide_by_zero() -> None:
    flat = ChartCandles(
        "X/USDT", "1h", (0, H), (5.0, 5.0), (5.0, 5.0), (5.0, 5.0), (5.0, 5.0), (1.0, 1.0)
    )
    chart = layout_chart(flat, [])
    assert chart is not None
    assert all(c.body_height >= 1 for c in chart.candles)
