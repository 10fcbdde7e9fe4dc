"""JSON API under /api, answering in the envelope."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from cryptolens.web.api import chart, docs, health, live  # noqa: E402,F401  (registers routes on bp)
