"""Interactive documentation of API v1: Swagger UI rendering /api/v1/openapi.json."""

from __future__ import annotations

from flask import render_template

from cryptolens.web.access import public
from cryptolens.web.api import bp


@bp.get("/docs")
@public
def docs() -> str:
    return render_template("api/docs.html")
