"""Chart data: candles, zones and signal levels of one symbol, bounded per request."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from flask import Response, current_app, request

from cryptolens.extensions import db
from cryptolens.services.chart import (
    MAX_CANDLES,
    MAX_SIGNALS,
    MAX_ZONES,
    chart_candles,
    chart_signals,
    chart_zones,
    parse_chart_query,
)
from cryptolens.web.api import bp
from cryptolens.web.envelope import api_success
from cryptolens.web.state import app_settings


def _shallow(row: Any) -> dict[str, Any]:
    """A dataclass as a dict without ``asdict``'s deep copy of every value (thousands here)."""
    return {field.name: getattr(row, field.name) for field in fields(row)}


def _default_timeframe() -> str:
    return app_settings(current_app).base_timeframe


@bp.get("/chart/candles")
def candles() -> Response:
    query = parse_chart_query(request.args, default_timeframe=_default_timeframe())
    found = chart_candles(db.session(), query=query)
    meta = {"count": len(found.open_time), "limit": query.limit, "max": MAX_CANDLES}
    return api_success(_shallow(found), meta=meta)


@bp.get("/chart/zones")
def zones() -> Response:
    query = parse_chart_query(
        request.args, default_timeframe=_default_timeframe(), maximum=MAX_ZONES
    )
    found = chart_zones(db.session(), query=query)
    return api_success([_shallow(z) for z in found], meta={"limit": query.limit, "max": MAX_ZONES})


@bp.get("/chart/signals")
def signals() -> Response:
    query = parse_chart_query(
        request.args, default_timeframe=_default_timeframe(), maximum=MAX_SIGNALS
    )
    found = chart_signals(db.session(), symbol=query.symbol, limit=query.limit)
    return api_success(
        [_shallow(s) for s in found], meta={"limit": query.limit, "max": MAX_SIGNALS}
    )
