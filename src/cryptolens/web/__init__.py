"""The HTTP edge: blueprints per area, the API envelope, error pages, request middleware."""

from __future__ import annotations

from flask import Flask

from cryptolens.web import errors, middleware
from cryptolens.web.api import bp as api_bp
from cryptolens.web.dashboard import bp as dashboard_bp


def register_web(app: Flask) -> None:
    """Register every blueprint, the middleware and the error handlers on ``app``."""
    middleware.register(app)
    errors.register(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(dashboard_bp)
