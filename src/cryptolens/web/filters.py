"""Jinja filters for market values: exchange-clock times and prices from large to micro caps."""

from __future__ import annotations

import math

from flask import Flask

from cryptolens.domain.timeframes import ms_to_datetime


def market_time(ms: int | None) -> str:
    """Epoch ms on the exchange's clock, shown as UTC."""
    if ms is None:
        return "—"
    return ms_to_datetime(int(ms)).strftime("%Y-%m-%d %H:%M UTC")


def price(value: float | None, significant: int = 6) -> str:
    """A price with ``significant`` significant digits: 64,123.5 and 0.00001234 alike."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, significant - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def register_filters(app: Flask) -> None:
    app.add_template_filter(market_time, "market_time")
    app.add_template_filter(price, "price")
