"""Dashboard pages."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, redirect, render_template, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.views.dashboard import dashboard_summary
from cryptolens.services.views.landing import landing
from cryptolens.services.views.matrix import pattern_matrix
from cryptolens.web.access import public
from cryptolens.web.dashboard import bp
from cryptolens.web.fragments import LANDING_TTL_S, MATRIX_TTL_S, cached_html, fragment_key
from cryptolens.web.principal import current_principal

#: The landing page's sample chart: 60 four-hour candles (ten days) when 4h is configured.
LANDING_TIMEFRAME = "4h"


def _scope(values: frozenset[str] | None) -> str:
    return "*" if values is None else ",".join(sorted(values))


def cached_pattern_matrix(
    timeframes: Sequence[str],
    *,
    symbols: frozenset[str] | None,
    pattern_types: frozenset[str] | None,
) -> Markup:
    """The matrix section, queried and rendered at most once per MATRIX_TTL_S (hundreds of
    cells: rendering costs more than the grouped query). Cached per visibility (the symbols
    and pattern types shown), so one plan's matrix is never served to another."""
    key = fragment_key(
        "pattern_matrix_html",
        {
            "timeframes": ",".join(timeframes),
            "symbols": _scope(symbols),
            "types": _scope(pattern_types),
        },
    )

    def render() -> str:
        matrix = pattern_matrix(
            db.session(), timeframes=timeframes, symbols=symbols, pattern_types=pattern_types
        )
        return render_template("dashboard/_matrix.html", matrix=matrix)

    return cached_html(key, MATRIX_TTL_S, render)


def landing_page() -> str:
    """The signed-out face of ``/``; its chart and figures are rendered at most once per
    LANDING_TTL_S (every visitor sees the same)."""
    settings = app_settings(current_app)
    symbol = settings.symbols[0]
    timeframe = (
        LANDING_TIMEFRAME if LANDING_TIMEFRAME in settings.timeframes else settings.timeframes[-1]
    )

    def render() -> str:
        found = landing(
            db.session(), exchange=settings.exchange_id, symbol=symbol, timeframe=timeframe
        )
        return render_template("site/_landing_data.html", landing=found)

    key = fragment_key("landing_html", {"symbol": symbol, "timeframe": timeframe})
    return render_template("site/landing.html", data_html=cached_html(key, LANDING_TTL_S, render))


@bp.get("/")
@public
def index() -> str | Response:
    """The dashboard for verified users; the landing page for visitors who are not signed in
    (the gate's rule for everyone else: an unverified user is sent to verify first)."""
    settings = app_settings(current_app)
    principal = current_principal()
    if not principal.is_authenticated:
        return landing_page()
    if not principal.verified:
        return redirect(url_for("auth.verify_pending"))
    summary = dashboard_summary(
        db.session(),
        exchange=settings.exchange_id,
        timeframes=settings.timeframes,
        limit_total=policy.visible_signals_limit(current_principal()),
    )
    matrix_html = cached_pattern_matrix(
        settings.timeframes,
        symbols=policy.visible_symbols(current_principal()),
        pattern_types=policy.pattern_types(current_principal()),
    )
    return render_template("dashboard/index.html", matrix_html=matrix_html, summary=summary)
