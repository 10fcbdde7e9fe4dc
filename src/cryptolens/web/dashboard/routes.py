"""Dashboard pages."""

from __future__ import annotations

from flask import render_template

from cryptolens.extensions import db
from cryptolens.services.market_overview import market_overview
from cryptolens.web.dashboard import bp


@bp.get("/")
def index() -> str:
    return render_template("dashboard/index.html", overview=market_overview(db.session()))
