"""The edge report: does what the scanner finds beat chance on real history?"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("edge", __name__, url_prefix="/edge")

from cryptolens.web.edge import routes  # noqa: E402,F401  (registers routes on bp)
