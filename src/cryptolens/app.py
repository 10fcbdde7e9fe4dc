"""The web application factory, on the runtime every entry point builds the same way."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from cryptolens.config import Settings
from cryptolens.extensions import cache, db
from cryptolens.runtime import RUNTIME_KEY, build
from cryptolens.web import register_web
from cryptolens.web.filters import register_filters
from cryptolens.web.security import security_config

__all__ = ["build", "create_app"]


def cache_config(settings: Settings) -> dict[str, object]:
    """Flask-Caching settings: Redis when configured, else a per-process dictionary."""
    if settings.redis_url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.redis_url}
    return {"CACHE_TYPE": "SimpleCache"}


def create_app(settings: Settings | None = None) -> Flask:
    """Build a configured application; settings default to the environment."""
    runtime = build(settings)
    settings = runtime.settings
    app = Flask(
        # The package's name, not this module's: templates, static files and the logger
        # are the package's.
        "cryptolens",
        instance_path=str(settings.instance_dir.resolve()),
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.is_testing,
        SQLALCHEMY_DATABASE_URI=settings.resolved_database_url,
        SQLALCHEMY_ENGINE_OPTIONS=settings.engine_options(),
        CACHE_DEFAULT_TIMEOUT=60,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        **cache_config(settings),
        **security_config(settings),
    )
    # Before db.init_app: the extension takes its engine from the runtime.
    app.extensions[RUNTIME_KEY] = runtime
    db.init_app(app)
    cache.init_app(app)

    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies,
        )

    register_filters(app)
    register_web(app)
    return app
