"""Gunicorn settings derived from CryptoLens settings (the only reader of the environment)."""

from __future__ import annotations

import multiprocessing

from cryptolens.config import load_settings

_settings = load_settings()

#: SQLite serialises writers; a few workers serve reads well, more only queue on the lock.
SQLITE_WORKER_CAP = 4
MAX_WORKERS = 16


def _workers() -> int:
    if _settings.web_workers:
        return _settings.web_workers
    wanted = multiprocessing.cpu_count() * 2 + 1
    if _settings.database.get_backend_name() == "sqlite":
        return min(wanted, SQLITE_WORKER_CAP)
    return min(wanted, MAX_WORKERS)


bind = f"{_settings.host}:{_settings.port}"
workers = _workers()
worker_class = "gthread"
threads = 4
timeout = _settings.web_timeout
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = _settings.log_level.lower()
# Bounded request heads (gunicorn's own checks); bodies are bounded by MAX_REQUEST_BYTES in
# the app, which Werkzeug applies to chunked bodies too. The Server header says "gunicorn"
# without a version.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
forwarded_allow_ips = "*" if _settings.trusted_proxies else "127.0.0.1"
