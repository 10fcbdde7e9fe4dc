"""The runtime of job code: built once per process by ``cryptolens.app.build``, the same
builder the web app uses, so a job sees exactly what a request sees."""

from __future__ import annotations

import os
from pathlib import Path

from redis import Redis
from sqlalchemy import Engine

from cryptolens.config import Settings, load_settings
from cryptolens.runtime import Runtime, build
from cryptolens.services.scanning.session import ScanSession

_runtimes: dict[str, Runtime] = {}
_scan_sessions: dict[str, ScanSession] = {}


def job_runtime(settings: Settings | None = None) -> Runtime:
    """One runtime (engine, pool, Redis client) per configuration per process."""
    settings = settings or load_settings()
    # Keyed on every setting, not just the database: other settings (REDIS_URL) shape it too.
    key = settings.model_dump_json()
    if key not in _runtimes:
        _runtimes[key] = build(settings)
    return _runtimes[key]


_settings: dict[tuple[object, ...], Settings] = {}


def job_settings() -> Settings:
    """The settings from the environment and ``.env``, read again only when either changed
    (a kept worker process runs thousands of jobs; parsing them is ~10 ms a time)."""
    dotenv = Path(".env")
    try:
        stamp: object = dotenv.stat().st_mtime_ns
    except OSError:
        stamp = None
    key = (os.getcwd(), stamp, *sorted(os.environ.items()))
    found = _settings.get(key)
    if found is None:
        _settings.clear()
        found = _settings[key] = load_settings()
    return found


def job_engine(settings: Settings) -> Engine:
    return job_runtime(settings).engine


def job_redis(settings: Settings) -> Redis[bytes] | None:
    return job_runtime(settings).redis


def job_scan_session(settings: Settings) -> ScanSession:
    """One scan session (event loop, exchange client with its loaded markets) per
    configuration per process. A forking worker's work horse builds it and exits with it; a
    worker that runs jobs in its own process (``cryptolens worker --no-fork``) keeps it from
    one job to the next, so a per-symbol scan job pays the markets and connections once."""
    key = settings.model_dump_json()
    if key not in _scan_sessions:
        _scan_sessions[key] = ScanSession(job_engine(settings), settings)
    return _scan_sessions[key]


def close_scan_sessions() -> None:
    """Close the kept scan sessions (a worker stopping)."""
    while _scan_sessions:
        _, session = _scan_sessions.popitem()
        session.close()
