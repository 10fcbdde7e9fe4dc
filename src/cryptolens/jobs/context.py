"""Per-process settings and engine for job code (workers fork per job; engines are cheap)."""

from __future__ import annotations

from redis import Redis
from sqlalchemy import Engine

from cryptolens.config import Settings, load_settings
from cryptolens.db.engine import create_engine_for
from cryptolens.infra.redis import redis_from_url


def job_settings() -> Settings:
    return load_settings()


_engines: dict[str, Engine] = {}


def job_engine(settings: Settings) -> Engine:
    """One engine (and pool) per database per process."""
    url = settings.resolved_database_url
    if url not in _engines:
        _engines[url] = create_engine_for(settings)
    return _engines[url]


def job_redis(settings: Settings) -> Redis[bytes] | None:
    return redis_from_url(settings.redis_url) if settings.redis_url else None
