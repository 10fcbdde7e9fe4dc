"""One symbol's interactive chart, and the vendored chart library it needs."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("symbols", __name__)

from cryptolens.web.symbols import routes  # noqa: E402,F401  (registers routes on bp)
