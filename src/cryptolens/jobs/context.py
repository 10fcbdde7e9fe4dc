"""The runtime of job code: built once per process by ``cryptolens.app.build``, the same
builder the web app uses, so a job sees exactly what a request sees."""

from __future__ import annotations

from redis import Redis
from sqlalchemy import Engine

from cryptolens.config import Settings, load_settings
from cryptolens.runtime import Runtime, build

_runtimes: dict[str, Runtime] = {}


def job_runtime(settings: Settings | None = None) -> Runtime:
    """One runtime (engine, pool, Redis client) per configuration per process."""
    settings = settings or load_settings()
    # Keyed on every setting, not just the database: other settings (REDIS_URL) shape it too.
    key = settings.model_dump_json()
    if key not in _runtimes:
        _runtimes[key] = build(settings)
    return _runtimes[key]


def job_settings() -> Settings:
    return load_settings()


def job_engine(settings: Settings) -> Engine:
    return job_runtime(settings).engine


def job_redis(settings: Settings) -> Redis[bytes] | None:
    return job_runtime(settings).redis
