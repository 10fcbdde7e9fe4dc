"""Symbol pages and the vendored browser libraries."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, render_template, request, send_from_directory

from cryptolens.domain.symbols import parse_symbol
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.views.chart import ChartSignal, chart_signal, symbol_id_for
from cryptolens.services.views.listing import parse_int, parse_timeframe
from cryptolens.web.access import public
from cryptolens.web.principal import current_principal
from cryptolens.web.symbols import bp

VENDOR_DIR = Path(__file__).resolve().parents[1] / "static" / "vendor"
#: The only files served from the vendor folder (copied there by ``make install``).
VENDOR_FILES = frozenset(
    {"lightweight-charts.standalone.production.js", "swagger-ui-bundle.js", "swagger-ui.css"}
)
#: The chart's zone toggles, in this order (those the plan shows).
ZONE_TYPES = ("fvg", "order_block", "liquidity_sweep")
#: Signal ids are signed 64-bit integers in every database.
MAX_ID = 2**63 - 1


def _requested_signal(symbol: str) -> ChartSignal | None:
    """The signal named by ``?signal=N``, under the signal page's rule (Free: none; Pro: the
    newest 50); None when not asked for."""
    signal_id = parse_int(request.args, "signal", default=0, minimum=1, maximum=MAX_ID)
    if not signal_id:
        return None
    found = chart_signal(
        db.session(),
        exchange=app_settings(current_app).exchange_id,
        symbol=symbol,
        signal_id=signal_id,
        count_newer_within=policy.signals_page_limit(current_principal()),
    )
    policy.check_signal_visible(current_principal(), newer=found.newer)
    return found


@bp.get("/symbols/<path:symbol>")
def chart(symbol: str) -> str:
    settings = app_settings(current_app)
    name = policy.check_symbol_visible(current_principal(), parse_symbol(symbol))
    symbol_id_for(db.session(), exchange=settings.exchange_id, symbol=name)
    timeframe = parse_timeframe(request.args) or settings.base_timeframe
    return render_template(
        "symbols/chart.html",
        symbol=name,
        timeframe=timeframe,
        timeframes=settings.timeframes,
        requested=_requested_signal(name),
        zone_types=[t for t in ZONE_TYPES if t in policy.pattern_types(current_principal())],
    )


@bp.get("/vendor/<name>")
@public  # a fixed list of library files, like /static
def vendor(name: str) -> Response:
    if name not in VENDOR_FILES:
        abort(404)
    return send_from_directory(VENDOR_DIR, name, max_age=86_400)
