"""Sign-up, sign-in (with 2FA), email verification, password reset, sign-out."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from cryptolens.web.auth import routes  # noqa: E402,F401  (registers routes on bp)
