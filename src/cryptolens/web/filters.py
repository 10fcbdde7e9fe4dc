"""Jinja filters for market values (exchange-clock times and prices from large to micro caps)
and the values every page's template may use.

``static/js/format.js`` applies the same price rule in the browser (the chart's scale)."""

from __future__ import annotations

import math

from flask import Flask

from cryptolens.domain.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, ms_to_datetime
from cryptolens.runtime import app_settings
from cryptolens.services.ops.demo import market_source

#: Significant digits shown for a price, whatever its magnitude.
PRICE_SIGNIFICANT = 6


def market_time(ms: int | None) -> str:
    """Epoch ms on the exchange's clock, shown as UTC."""
    if ms is None:
        return "—"
    return ms_to_datetime(int(ms)).strftime("%Y-%m-%d %H:%M UTC")


def price_decimals(value: float, significant: int = PRICE_SIGNIFICANT) -> int:
    """Decimals that show ``value`` with ``significant`` significant digits (0 for 0)."""
    if value == 0 or not math.isfinite(value):
        return 0
    magnitude = math.floor(math.log10(abs(value)))
    return max(0, significant - 1 - magnitude)


def price(value: float | None, significant: int = PRICE_SIGNIFICANT) -> str:
    """A price with ``significant`` significant digits: 64,123.5 and 0.00001234 alike."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    return f"{value:,.{price_decimals(value, significant)}f}"


def duration(ms: int | None) -> str:
    """A market-clock age: ``45m``, ``3h 20m``, ``2d 4h`` (``—`` when unknown)."""
    if ms is None:
        return "—"
    if ms < 0:
        return "in the future"
    days, rest = divmod(int(ms), DAY_MS)
    hours, rest = divmod(rest, HOUR_MS)
    minutes = rest // MINUTE_MS
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def percent(fraction: float | None) -> str:
    """0.425 → ``42.5%`` (``—`` when undefined)."""
    if fraction is None or not math.isfinite(fraction):
        return "—"
    return f"{fraction * 100:.1f}%"


def r_multiple(value: float | None) -> str:
    """An R multiple with its sign: ``+1.50R``, ``-1.00R``."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+.2f}R"


def label(value: str | None) -> str:
    """A stored code as words: ``order_block`` → ``order block``."""
    return "—" if value is None else value.replace("_", " ")


def register_filters(app: Flask) -> None:
    app.add_template_filter(market_time, "market_time")
    app.add_template_filter(price, "price")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(r_multiple, "r_multiple")
    app.add_template_filter(label, "label")
    app.context_processor(lambda: page_context(app))


def page_context(app: Flask) -> dict[str, object]:
    """What every page may show: where its prices come from and the configured timeframes
    (filter menus offer only those)."""
    settings = app_settings(app)
    return {
        "market_source": market_source(
            exchange_id=settings.exchange_id,
            exchange_api_url=settings.exchange_api_url,
            symbols=settings.symbols,
        ),
        "configured_timeframes": settings.timeframes,
    }
