"""Statistics: zones by type, timeframe and status, fill rates and the signal track record."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("stats", __name__, url_prefix="/stats")

from cryptolens.web.stats import routes  # noqa: E402,F401  (registers routes on bp)
