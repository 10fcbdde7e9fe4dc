"""The signed-in user's own pages: profile and preferences, password, email, 2FA, sessions,
API keys."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from cryptolens.web.account import (  # noqa: E402,F401  (registers routes)
    alerts,
    api_keys,
    billing,
    routes,
    twofactor,
)
