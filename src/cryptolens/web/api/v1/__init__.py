"""REST API v1: thin routes over the same services and policy as the pages, one module per
resource; typed models feed validation and the OpenAPI document (``spec``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

from cryptolens.web.api.v1 import (  # noqa: E402,F401  (registers routes on bp)
    account,
    actions,
    backtests,
    document,
    market,
    portfolios,
    signals,
)
