"""Prometheus metrics that processes record as things happen, and their exposition.

Counters and histograms live here; every one has at least one label, so its values are
created on first use, after ``use_directory`` chose how they are stored. Gauges describing
stored state (zones, users, queues, ingestion lag) are computed when scraped, by the
collectors a scrape passes to ``exposition`` (``services.ops.metrics_gauges``).

Labels stay bounded: routes are URL rule templates, methods a fixed set, errors class names.
With a multiprocess directory (PROMETHEUS_MULTIPROC_DIR) each process writes its own files
there and a scrape sums every process's (``infra.metrics_files``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from cryptolens.infra import metrics_files

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: The registry of this module's metrics (never the library's global one, which also holds
#: process and platform collectors nobody asked for).
REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "cryptolens_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "cryptolens_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
SIGNALS = Counter(
    "cryptolens_signals_total",
    "Signals the scanner created.",
    ["exchange"],
    registry=REGISTRY,
)
NOTIFICATIONS_SENT = Counter(
    "cryptolens_notifications_sent_total",
    "Notifications delivered, by channel kind (email: handed to the outbox).",
    ["channel"],
    registry=REGISTRY,
)
CACHE_HITS = Counter(
    "cryptolens_cache_hits_total",
    "Cached page sections served from the cache.",
    ["cache"],
    registry=REGISTRY,
)
CACHE_MISSES = Counter(
    "cryptolens_cache_misses_total",
    "Cached page sections rendered because the cache did not hold them.",
    ["cache"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "cryptolens_job_processing_seconds",
    "Time a background job ran, by job name and outcome.",
    ["job", "status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
    registry=REGISTRY,
)
EXCHANGE_ERRORS = Counter(
    "cryptolens_exchange_errors_total",
    "Failed exchange requests (each attempt, retried or not), by operation and error class.",
    ["exchange", "operation", "error"],
    registry=REGISTRY,
)

RECORDED: tuple[Counter | Histogram, ...] = (
    HTTP_REQUESTS,
    HTTP_DURATION,
    SIGNALS,
    NOTIFICATIONS_SENT,
    CACHE_HITS,
    CACHE_MISSES,
    JOB_SECONDS,
    EXCHANGE_ERRORS,
)

_directory: dict[str, Path | str | None] = {"path": None, "role": None}


def use_directory(path: Path, role: str) -> None:
    """Record into files under ``path`` as process ``<role><pid>`` (prometheus-client's
    multiprocess mode); values recorded so far in this process are dropped."""
    if _directory["path"] == path and _directory["role"] == role:
        return
    path.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # It warns that clearing is not done in files: these values were never in files.
        warnings.simplefilter("ignore", UserWarning)
        for metric in RECORDED:
            metric.clear()
    # prometheus-client reads the directory from the environment when it opens a file.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    values.ValueClass = values.MultiProcessValue(lambda: f"{role}{os.getpid()}")
    _directory.update(path=path, role=role)


def directory() -> Path | None:
    """The multiprocess directory this process records into, if any."""
    found = _directory["path"]
    return found if isinstance(found, Path) else None


class _Together:
    """The recorded metrics (this process's, or every process's files) and extra collectors."""

    def __init__(self, extra: Iterable[Collector]) -> None:
        self._extra = tuple(extra)

    def collect(self) -> Iterator[Metric]:
        path = directory()
        if path is None:
            yield from REGISTRY.collect()
        else:
            yield from metrics_files.collect(path)
        for collector in self._extra:
            yield from collector.collect()


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The Prometheus text format of every recorded metric plus ``extra`` collectors'."""
    return generate_latest(_Together(extra))


# -- recording ------------------------------------------------------------------------------


def count_signals(exchange: str, created: int) -> None:
    if created:
        SIGNALS.labels(exchange).inc(created)


def count_notifications(sent_by_channel: Mapping[str, int]) -> None:
    for channel, sent in sent_by_channel.items():
        if sent:
            NOTIFICATIONS_SENT.labels(channel).inc(sent)


def count_cache(cache: str, *, hit: bool) -> None:
    (CACHE_HITS if hit else CACHE_MISSES).labels(cache).inc()


def observe_job(job: str, status: str, seconds: float) -> None:
    JOB_SECONDS.labels(job, status).observe(seconds)


def count_exchange_error(exchange: str, operation: str, error: BaseException) -> None:
    EXCHANGE_ERRORS.labels(exchange, operation, type(error).__name__).inc()
