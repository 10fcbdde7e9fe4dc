"""CryptoLens: Smart Money Concepts zones across markets and timeframes."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from cryptolens.config import Settings, load_settings
from cryptolens.db.engine import configure_engine, ensure_sqlite_directory
from cryptolens.extensions import cache, db
from cryptolens.infra.redis import redis_from_url
from cryptolens.logs import configure_logging
from cryptolens.web import register_web
from cryptolens.web.filters import register_filters
from cryptolens.web.security import security_config
from cryptolens.web.state import REDIS_KEY, SETTINGS_KEY

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Build a configured application; settings default to the environment."""
    settings = settings or load_settings()
    configure_logging(settings)
    ensure_sqlite_directory(settings)

    app = Flask(
        __name__,
        instance_path=str(settings.instance_dir.resolve()),
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.is_testing,
        SQLALCHEMY_DATABASE_URI=settings.resolved_database_url,
        SQLALCHEMY_ENGINE_OPTIONS=settings.engine_options(),
        CACHE_TYPE="RedisCache" if settings.redis_url else "SimpleCache",
        CACHE_DEFAULT_TIMEOUT=60,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        **security_config(settings),
    )
    if settings.redis_url:
        app.config["CACHE_REDIS_URL"] = settings.redis_url
    app.extensions[SETTINGS_KEY] = settings
    app.extensions[REDIS_KEY] = redis_from_url(settings.redis_url) if settings.redis_url else None

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, settings)
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
    from cryptolens.cli import register_commands

    register_commands(app)
    return app
