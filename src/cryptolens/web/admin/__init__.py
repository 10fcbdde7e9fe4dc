"""Administration: the dashboard and quick actions, users, queues and jobs, broadcast, the
audit log and the runtime settings (admin role only)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from cryptolens.web.admin import (  # noqa: E402,F401  (registers routes on bp)
    broadcast,
    errors,
    panel,
    payments,
    routes,
    symbols,
    trail,
)
