"""The public pages around the app: pricing, terms and privacy (the landing page is the
dashboard's signed-out face, web/dashboard)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("site", __name__)

from cryptolens.web.site import routes  # noqa: E402,F401  (registers routes on bp)
