"""Dashboard pages."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, render_template

from cryptolens.extensions import cache, db
from cryptolens.services.dashboard import dashboard_summary
from cryptolens.services.matrix import PatternMatrix, pattern_matrix
from cryptolens.web.dashboard import bp
from cryptolens.web.state import app_settings

#: The matrix is the heaviest read on the page and changes at most once a scan: 60 s cache.
MATRIX_TTL_S = 60


def cached_pattern_matrix(timeframes: Sequence[str]) -> PatternMatrix:
    key = f"pattern_matrix:{','.join(timeframes)}"
    matrix: PatternMatrix | None = cache.get(key)
    if matrix is None:
        matrix = pattern_matrix(db.session(), timeframes=timeframes)
        cache.set(key, matrix, timeout=MATRIX_TTL_S)
    return matrix


@bp.get("/")
def index() -> str:
    settings = app_settings(current_app)
    summary = dashboard_summary(
        db.session(), exchange=settings.exchange_id, timeframes=settings.timeframes
    )
    return render_template(
        "dashboard/index.html",
        matrix=cached_pattern_matrix(settings.timeframes),
        summary=summary,
    )
