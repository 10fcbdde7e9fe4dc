"""What one process runs on: settings, engine, session factory and Redis, built together.

``build`` is the one builder: the web app (``cryptolens.app.create_app``), the RQ worker and
scheduler (``jobs.context``) and the CLI all start from it, so a job runs on exactly what a
request runs on. Nothing here imports the web or the jobs package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cryptolens.config import Settings, load_settings
from cryptolens.db.engine import create_engine_for
from cryptolens.infra.redis import redis_from_url
from cryptolens.infra.sentry import init_sentry
from cryptolens.logs import configure_logging
from cryptolens.services.accounts import policy

if TYPE_CHECKING:
    from cryptolens.market.exchange import ExchangeClient
    from cryptolens.market.resilience import CircuitBreaker

RUNTIME_KEY = "cryptolens.runtime"


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis[bytes] | None

    def exchange(self, *, breaker: CircuitBreaker | None = None) -> ExchangeClient:
        """A new client for the configured exchange (a client belongs to one event loop)."""
        # Imported here: CCXT costs a second and only market work needs it.
        from cryptolens.services.market.ingest import exchange_client

        return exchange_client(self.settings, breaker=breaker)


def build(settings: Settings | None = None) -> Runtime:
    """Everything a process runs on, from ``settings`` (default: the environment)."""
    settings = settings or load_settings()
    configure_logging(settings)
    init_sentry(settings)
    policy.configure(plans_enabled=settings.plans_enabled)
    engine = create_engine_for(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessionmaker(engine),
        redis=redis_from_url(settings.redis_url) if settings.redis_url else None,
    )


def app_runtime(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    return runtime


def app_settings(app: Flask) -> Settings:
    return app_runtime(app).settings


def app_redis(app: Flask) -> Redis[bytes] | None:
    return app_runtime(app).redis
