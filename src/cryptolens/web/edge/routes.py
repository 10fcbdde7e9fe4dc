"""Edge report page: the stored report (``cryptolens edge-report`` computes it)."""

from __future__ import annotations

from flask import current_app, render_template

from cryptolens.runtime import app_settings
from cryptolens.services.quality.edge_store import cached_report
from cryptolens.web.edge import bp


@bp.get("")
def index() -> str:
    return render_template("edge/index.html", stored=cached_report(app_settings(current_app)))
