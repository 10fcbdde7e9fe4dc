"""The zones list: filterable by symbol, timeframe, type, direction and status."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("patterns", __name__, url_prefix="/patterns")

from cryptolens.web.patterns import routes  # noqa: E402,F401  (registers routes on bp)
