"""Signals: the list and one signal with its levels, zones and outcome."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("signals", __name__, url_prefix="/signals")

from cryptolens.web.signals import routes  # noqa: E402,F401  (registers routes on bp)
