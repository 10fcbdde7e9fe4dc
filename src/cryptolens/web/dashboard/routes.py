"""Dashboard pages."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, render_template
from markupsafe import Markup

from cryptolens.extensions import cache, db
from cryptolens.services.dashboard import dashboard_summary
from cryptolens.services.matrix import pattern_matrix
from cryptolens.web.dashboard import bp
from cryptolens.web.state import app_settings

#: The matrix is the heaviest read on the page and changes at most once a scan: 60 s cache.
MATRIX_TTL_S = 60


def cached_pattern_matrix(timeframes: Sequence[str]) -> Markup:
    """The matrix section, queried and rendered at most once per MATRIX_TTL_S (hundreds of
    cells: rendering costs more than the grouped query)."""
    key = f"pattern_matrix_html:{','.join(timeframes)}"
    html: str | None = cache.get(key)
    if html is None:
        matrix = pattern_matrix(db.session(), timeframes=timeframes)
        html = render_template("dashboard/_matrix.html", matrix=matrix)
        cache.set(key, html, timeout=MATRIX_TTL_S)
    return Markup(html)  # noqa: S704  (our own template's output, escaped when rendered)


@bp.get("/")
def index() -> str:
    settings = app_settings(current_app)
    summary = dashboard_summary(
        db.session(), exchange=settings.exchange_id, timeframes=settings.timeframes
    )
    return render_template(
        "dashboard/index.html",
        matrix_html=cached_pattern_matrix(settings.timeframes),
        summary=summary,
    )
