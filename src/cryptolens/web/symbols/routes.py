"""Symbol pages and the vendored browser libraries."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, render_template, request, send_from_directory
from flask_login import current_user

from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services import policy
from cryptolens.services.chart import symbol_id_for
from cryptolens.services.listing import parse_symbol, parse_timeframe
from cryptolens.web.access import public
from cryptolens.web.symbols import bp

VENDOR_DIR = Path(__file__).resolve().parents[1] / "static" / "vendor"
#: The only files served from the vendor folder (copied there by ``make install``).
VENDOR_FILES = frozenset({"lightweight-charts.standalone.production.js"})


@bp.get("/symbols/<path:symbol>")
def chart(symbol: str) -> str:
    settings = app_settings(current_app)
    name = policy.check_symbol_visible(current_user, parse_symbol({"symbol": symbol}) or "")
    symbol_id_for(db.session(), name)
    timeframes = settings.timeframes
    timeframe = parse_timeframe(request.args) or settings.base_timeframe
    return render_template(
        "symbols/chart.html", symbol=name, timeframe=timeframe, timeframes=timeframes
    )


@bp.get("/vendor/<name>")
@public  # a fixed list of library files, like /static
def vendor(name: str) -> Response:
    if name not in VENDOR_FILES:
        abort(404)
    return send_from_directory(VENDOR_DIR, name, max_age=86_400)
