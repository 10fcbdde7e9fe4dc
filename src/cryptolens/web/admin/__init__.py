"""Administration: global settings and user management (admin role only)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

import cryptolens.web.admin.errors  # noqa: E402,F401  (error tracking pages)
from cryptolens.web.admin import broadcast, routes  # noqa: E402,F401  (registers routes on bp)
