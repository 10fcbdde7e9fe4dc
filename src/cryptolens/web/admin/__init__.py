"""Administration: the dashboard and quick actions, users, queues and jobs, broadcast, the
audit log and the runtime settings (admin role only)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from cryptolens.web.admin import broadcast, panel, routes, symbols, trail  # noqa: E402,F401
