"""What the public landing page shows: a small chart drawn from stored candles with a few of
the zones found on them, and the overall signal track record.

The chart is laid out here as plain shapes (``layout_chart`` is pure) and drawn as inline SVG
by the template: no script, nothing fetched by the visitor's browser.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cryptolens.domain.errors import NotFoundError
from cryptolens.services.views.chart import (
    ChartCandles,
    ChartQuery,
    ChartZone,
    chart_candles,
    chart_zones,
)
from cryptolens.services.views.stats import page_statistics
from cryptolens.services.views.track_record import TrackRecordRow

SAMPLE_CANDLES = 60
SAMPLE_ZONES = 4
#: The drawing's own units (the SVG scales to the page's width).
WIDTH = 640
HEIGHT = 260
PAD = 6


@dataclass(frozen=True, slots=True)
class CandleMark:
    """One candle: its wick from ``high_y`` to ``low_y`` at ``x``, its body from ``body_y``
    down ``body_height``, ``width`` wide around ``x``."""

    x: float
    high_y: float
    low_y: float
    body_y: float
    body_height: float
    width: float
    rising: bool


@dataclass(frozen=True, slots=True)
class ZoneMark:
    x: float
    y: float
    width: float
    height: float
    bullish: bool
    label: str


@dataclass(frozen=True, slots=True)
class SampleChart:
    symbol: str
    timeframe: str
    width: int
    height: int
    candles: tuple[CandleMark, ...]
    zones: tuple[ZoneMark, ...]
    price_high: float
    price_low: float


@dataclass(frozen=True, slots=True)
class Landing:
    chart: SampleChart | None
    #: Every closed signal in one row (None before the first one closes).
    record: TrackRecordRow | None


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def layout_chart(
    candles: ChartCandles,
    zones: Sequence[ChartZone],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
    pad: int = PAD,
) -> SampleChart | None:
    """The shapes of ``candles`` (oldest first) and ``zones`` in a ``width`` x ``height``
    drawing: prices from the window's lowest low (bottom) to its highest high (top); a zone
    runs from its forming candle to where it ended (or the right edge), clipped to the
    drawing. None without candles."""
    count = len(candles.open_time)
    if count == 0:
        return None
    top, bottom = max(candles.high), min(candles.low)
    span = (top - bottom) or abs(top) or 1.0
    plot_height = height - 2 * pad
    step = (width - 2 * pad) / count

    def y_of(price: float) -> float:
        return pad + (top - price) / span * plot_height

    marks = []
    for i in range(count):
        opened, closed = candles.open[i], candles.close[i]
        body_top, body_bottom = y_of(max(opened, closed)), y_of(min(opened, closed))
        marks.append(
            CandleMark(
                x=pad + (i + 0.5) * step,
                high_y=y_of(candles.high[i]),
                low_y=y_of(candles.low[i]),
                body_y=body_top,
                body_height=max(body_bottom - body_top, 1.0),
                width=max(step * 0.6, 1.0),
                rising=closed >= opened,
            )
        )
    shapes = []
    times = candles.open_time
    for zone in zones:
        first = bisect_left(times, zone.candle_time)
        last = count if zone.ended_at is None else bisect_left(times, zone.ended_at) + 1
        if first >= count or last <= first:
            continue
        upper = _clamp(y_of(zone.zone_high), pad, height - pad)
        lower = _clamp(y_of(zone.zone_low), pad, height - pad)
        if lower - upper <= 0:
            continue  # wholly outside the window's prices
        shapes.append(
            ZoneMark(
                x=pad + first * step,
                y=upper,
                width=(min(last, count) - first) * step,
                height=lower - upper,
                bullish=zone.direction == "bullish",
                label=zone.pattern_type,
            )
        )
    return SampleChart(
        symbol=candles.symbol,
        timeframe=candles.timeframe,
        width=width,
        height=height,
        candles=tuple(marks),
        zones=tuple(shapes),
        price_high=top,
        price_low=bottom,
    )


def sample_chart(
    session: Session, *, exchange: str, symbol: str, timeframe: str
) -> SampleChart | None:
    """The newest ``SAMPLE_CANDLES`` stored candles of ``symbol`` and the newest
    ``SAMPLE_ZONES`` zones formed among them; None while nothing is stored."""
    query = ChartQuery(exchange=exchange, symbol=symbol, timeframe=timeframe, limit=SAMPLE_CANDLES)
    try:
        candles = chart_candles(session, query=query)
    except NotFoundError:
        return None
    if not candles.open_time:
        return None
    window = ChartQuery(
        exchange=exchange,
        symbol=symbol,
        timeframe=timeframe,
        limit=SAMPLE_ZONES,
        start_ms=candles.open_time[0],
    )
    return layout_chart(candles, chart_zones(session, query=window))


def landing(session: Session, *, exchange: str, symbol: str, timeframe: str) -> Landing:
    """The landing page's chart and the public track record (the stats page's overall row)."""
    return Landing(
        chart=sample_chart(session, exchange=exchange, symbol=symbol, timeframe=timeframe),
        record=page_statistics(session).overall,
    )
