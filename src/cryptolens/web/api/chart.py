"""Chart data: candles, zones and signal levels of one symbol, bounded per request.

Read by the chart page's script with the session cookie: every verified user, limited to
the symbols, pattern types and signals their plan shows (``services.accounts.policy``)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from flask import Response, current_app, request

from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.views.chart import (
    MAX_CANDLES,
    MAX_SIGNALS,
    MAX_ZONES,
    ChartQuery,
    chart_candles,
    chart_signals,
    chart_zones,
    is_live,
    parse_chart_query,
)
from cryptolens.web.api import bp
from cryptolens.web.envelope import api_success
from cryptolens.web.principal import current_principal


def _shallow(row: Any) -> dict[str, Any]:
    """A dataclass as a dict without ``asdict``'s deep copy of every value (thousands here)."""
    return {field.name: getattr(row, field.name) for field in fields(row)}


def _query(maximum: int) -> ChartQuery:
    """The validated query, for a symbol the user may see (TierRequiredError: 403)."""
    query = parse_chart_query(
        request.args,
        exchange=app_settings(current_app).exchange_id,
        default_timeframe=app_settings(current_app).base_timeframe,
        maximum=maximum,
    )
    policy.check_symbol_visible(current_principal(), query.symbol)
    return query


@bp.get("/chart/candles")
def candles() -> Response:
    query = _query(MAX_CANDLES)
    found = chart_candles(db.session(), query=query)
    meta = {"count": len(found.open_time), "limit": query.limit, "max": MAX_CANDLES}
    return api_success(_shallow(found), meta=meta)


@bp.get("/chart/zones")
def zones() -> Response:
    query = _query(MAX_ZONES)
    found = chart_zones(
        db.session(), query=query, pattern_types=policy.pattern_types(current_principal())
    )
    return api_success([_shallow(z) for z in found], meta={"limit": query.limit, "max": MAX_ZONES})


@bp.get("/chart/signals")
def signals() -> Response:
    query = _query(MAX_SIGNALS)
    found = chart_signals(
        db.session(),
        exchange=query.exchange,
        symbol=query.symbol,
        limit=query.limit,
        limit_total=policy.visible_signals_limit(current_principal()),
    )
    return api_success(
        [{**_shallow(s), "live": is_live(s)} for s in found],
        meta={"limit": query.limit, "max": MAX_SIGNALS},
    )
