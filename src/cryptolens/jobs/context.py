"""The runtime of job code: built once per process by ``cryptolens.app.build``, the same
builder the web app uses, so a job sees exactly what a request sees."""

from __future__ import annotations

from redis import Redis
from sqlalchemy import Engine

from cryptolens.config import Settings, load_settings
from cryptolens.runtime import Runtime, build

_runtimes: dict[str, Runtime] = {}


def job_runtime(settings: Settings | None = None) -> Runtime:
    """One runtime (engine, pool, Redis client) per database per process."""
    settings = settings or load_settings()
    url = settings.resolved_database_url
    if url not in _runtimes:
        _runtimes[url] = build(settings)
    return _runtimes[url]


def job_settings() -> Settings:
    return load_settings()


def job_engine(settings: Settings) -> Engine:
    return job_runtime(settings).engine


def job_redis(settings: Settings) -> Redis[bytes] | None:
    return job_runtime(settings).redis
