"""The HTTP edge: blueprints per area, the API envelope, error pages, request middleware."""

from __future__ import annotations

from flask import Flask

from cryptolens.web import (
    analytics_refresh,
    api_key_auth,
    errors,
    metrics,
    middleware,
    security,
    serving,
)
from cryptolens.web.account import bp as account_bp
from cryptolens.web.admin import bp as admin_bp
from cryptolens.web.api import bp as api_bp
from cryptolens.web.api.v1 import bp as api_v1_bp
from cryptolens.web.auth import bp as auth_bp
from cryptolens.web.backtests import bp as backtests_bp
from cryptolens.web.dashboard import bp as dashboard_bp
from cryptolens.web.edge import bp as edge_bp
from cryptolens.web.patterns import bp as patterns_bp
from cryptolens.web.payments import bp as payments_bp
from cryptolens.web.portfolio import bp as portfolio_bp
from cryptolens.web.signals import bp as signals_bp
from cryptolens.web.site import bp as site_bp
from cryptolens.web.site import routes as site_routes
from cryptolens.web.stats import bp as stats_bp
from cryptolens.web.symbols import bp as symbols_bp


def register_web(app: Flask) -> None:
    """Register every blueprint, the middleware and the error handlers on ``app``."""
    serving.register(app)  # first: routes bind their converters when they are added
    middleware.register(app)
    metrics.register(app)  # after middleware: it times from the middleware's start
    security.register(app)
    errors.register(app)
    api_key_auth.register(app)
    analytics_refresh.register(app)
    site_routes.register(app)  # operators' own legal pages
    # CSRF is decided per request by how it is authenticated (web/principal.py), not
    # by blueprint: a cookie-authenticated write under /api needs a token too.
    blueprints = (
        api_bp,
        api_v1_bp,
        dashboard_bp,
        patterns_bp,
        signals_bp,
        symbols_bp,
        stats_bp,
        edge_bp,
    )
    for blueprint in (
        *blueprints,
        auth_bp,
        account_bp,
        admin_bp,
        portfolio_bp,
        backtests_bp,
        payments_bp,
        site_bp,
    ):
        app.register_blueprint(blueprint)
