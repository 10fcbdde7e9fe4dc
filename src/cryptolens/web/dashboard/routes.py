"""Dashboard pages."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, render_template
from markupsafe import Markup

from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.views.dashboard import dashboard_summary
from cryptolens.services.views.matrix import pattern_matrix
from cryptolens.web.dashboard import bp
from cryptolens.web.fragments import MATRIX_TTL_S, cached_html, fragment_key
from cryptolens.web.principal import current_principal


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


@bp.get("/")
def index() -> str:
    settings = app_settings(current_app)
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
