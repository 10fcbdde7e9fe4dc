"""Buying a plan: checkout (redirect to the provider), the page the provider sends the user
back to, and the providers' signed webhooks. All of it 404s with PLANS_ENABLED=false."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("payments", __name__, url_prefix="/payments")

from cryptolens.web.payments import routes  # noqa: E402,F401  (registers routes on bp)
