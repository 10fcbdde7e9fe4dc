"""Stats page."""

from __future__ import annotations

from flask import render_template

from cryptolens.extensions import db
from cryptolens.services.views.stats import page_statistics
from cryptolens.web.stats import bp


@bp.get("")
def index() -> str:
    return render_template("stats/index.html", stats=page_statistics(db.session()))
