"""Gunicorn settings derived from CryptoLens settings (the only reader of the environment)."""

from __future__ import annotations

import logging
import multiprocessing
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from cryptolens.config import load_settings
from cryptolens.infra import metrics_files
from cryptolens.logs import redact

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


class RedactingLogger(Logger):  # type: ignore[misc]
    """Gunicorn's logger with emailed tokens redacted from every access-log field (the
    request line, path, query, Referer, and any header or environ value a format names)."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> Any:
        found = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in found.items()}

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        """Static files are not logged unless LOG_LEVEL is DEBUG (nginx serves them in
        production; through gunicorn they would drown the requests that matter)."""
        static = str(environ.get("PATH_INFO", "")).startswith("/static/")
        if static and not self.error_log.isEnabledFor(logging.DEBUG):
            return
        super().access(resp, req, environ, request_time)


bind = f"{_settings.host}:{_settings.port}"
workers = _workers()
worker_class = "gthread"
threads = 4
timeout = _settings.web_timeout
graceful_timeout = 30
keepalive = 5
accesslog = "-"
logger_class = RedactingLogger
errorlog = "-"
loglevel = _settings.log_level.lower()
# Bounded request heads (gunicorn's own checks); bodies are bounded by MAX_REQUEST_BYTES in
# the app, which Werkzeug applies to chunked bodies too. The Server header says "gunicorn"
# without a version.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
forwarded_allow_ips = "*" if _settings.trusted_proxies else "127.0.0.1"


def on_starting(_server: Any) -> None:
    """A fresh start of the web: the previous web processes' metric files go (counters
    restart from zero, as they would in one process)."""
    if _settings.prometheus_multiproc_dir is not None:
        metrics_files.clear_role(_settings.prometheus_multiproc_dir, metrics_files.WEB_ROLE)
    elif workers > 1:
        logging.getLogger("gunicorn.error").warning(
            "PROMETHEUS_MULTIPROC_DIR is not set: /metrics shows only the requests of the "
            "worker that answers each scrape"
        )


def child_exit(_server: Any, worker: Any) -> None:
    """A worker exited: its live gauges go; its counters stay in the sums."""
    if _settings.prometheus_multiproc_dir is not None:
        metrics_files.mark_dead(
            _settings.prometheus_multiproc_dir, metrics_files.WEB_ROLE, int(worker.pid)
        )
