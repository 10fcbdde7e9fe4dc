"""Jinja filters for market values (times in the reader's time zone, prices from large to
micro caps) and the values every page's template may use.

``static/js/format.js`` applies the same price rule in the browser (the chart's scale)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Flask, has_request_context
from flask_login import current_user

from cryptolens.domain.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, ms_to_datetime
from cryptolens.runtime import app_settings
from cryptolens.services.ops.demo import market_source
from cryptolens.web.principal import current_principal

#: Significant digits shown for a price, whatever its magnitude.
PRICE_SIGNIFICANT = 6


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``; UTC when it is missing or unknown (a page never fails on it)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def reader_zone() -> ZoneInfo:
    """The signed-in user's time zone (``users.timezone``); UTC for anonymous visitors."""
    if has_request_context() and current_user.is_authenticated:
        return zone_named(current_user.account.timezone)
    return ZoneInfo("UTC")


def _as_utc(value: datetime | int | float) -> datetime:
    """A stored instant as an aware UTC datetime: epoch ms (the market clock) or a datetime
    (naive ones are UTC, as the database keeps them)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return ms_to_datetime(int(value))


def format_local(value: datetime | int | float | None, zone: ZoneInfo, pattern: str) -> str:
    """``value`` (UTC datetime or epoch ms) in ``zone`` with a strftime ``pattern``."""
    if value is None:
        return "—"
    return _as_utc(value).astimezone(zone).strftime(pattern)


def local_time(value: datetime | int | float | None) -> str:
    """An instant in the reader's time zone: ``2026-12-01 14:05 CET``."""
    return format_local(value, reader_zone(), "%Y-%m-%d %H:%M %Z")


def local_date(value: datetime | date | int | float | None) -> str:
    """The reader's calendar day of an instant (a plain date is shown as it is)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return format_local(value, reader_zone(), "%Y-%m-%d")


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Every zone the profile form offers, sorted (the forms' datalist)."""
    return tuple(sorted(available_timezones()))


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
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(price, "price")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(r_multiple, "r_multiple")
    app.add_template_filter(label, "label")
    # A global as well as a context value: macros imported without context see globals only.
    app.jinja_env.globals["plans_enabled"] = app_settings(app).plans_enabled
    app.context_processor(lambda: page_context(app))


def page_context(app: Flask) -> dict[str, object]:
    """What every page may show: where its prices come from, the configured timeframes
    (filter menus offer only those), the reader's time zone, and whether plans exist at all
    (``PLANS_ENABLED=false``: no plan, tier or upgrade wording anywhere), and where the live
    stream is (None: pages do not open it)."""
    settings = app_settings(app)
    return {
        "market_source": market_source(
            exchange_id=settings.exchange_id,
            exchange_api_url=settings.exchange_api_url,
            symbols=settings.symbols,
        ),
        "configured_timeframes": settings.timeframes,
        "reader_zone": reader_zone().key,
        "plans_enabled": settings.plans_enabled,
        "stream_url": settings.page_stream_url if _may_stream() else None,
    }


def _may_stream() -> bool:
    """Only a signed-in, verified reader's pages open the stream (the gateway refuses others)."""
    if not has_request_context():
        return False
    principal = current_principal()
    return principal.is_authenticated and principal.verified
