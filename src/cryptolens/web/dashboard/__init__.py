"""The dashboard a trader opens every morning."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from cryptolens.web.dashboard import routes  # noqa: E402,F401  (registers routes on bp)
