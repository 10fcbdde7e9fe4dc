"""The RQ worker: RQ's forking worker, recording job metrics into the multiprocess directory.

Each job runs in a forked work horse that records under ``rq<worker pid>h<horse pid>``; once
the horse is gone its counters are folded into the worker's own files, so the directory
holds a few files per worker however many jobs it has run (``infra.metrics_files``).

``--no-fork`` runs each job in the worker's own process instead (RQ's ``SimpleWorker``): what a
job builds once per process — the database engine and its compiled statements, the exchange
client with its loaded markets (``jobs.context``) — then serves every later job, which is what
many small per-symbol scan jobs need. The price: a job that leaks memory or crashes the
interpreter takes the worker with it (the service manager restarts it), so heavy jobs
(backtests on the ``low`` queue) are better left to a forking worker.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.worker import BaseWorker
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.infra import metrics, metrics_files
from cryptolens.jobs.context import close_scan_sessions, job_engine
from cryptolens.jobs.queues import PRIORITY
from cryptolens.logs import request_id_bound
from cryptolens.services.ops.background import REQUEST_ID_META
from cryptolens.services.ops.error_tracking import record_job_error


class RequestBound:
    """Runs each job under the id of the request that enqueued it (its log lines carry it)."""

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        meta = job.meta if isinstance(job.meta, dict) else {}
        request_id = meta.get(REQUEST_ID_META)
        with request_id_bound(request_id if isinstance(request_id, str) else None):
            return bool(super().perform_job(job, queue, execution))  # type: ignore[misc]


class CryptoLensWorker(RequestBound, Worker):
    """RQ's forking worker, each job under its request's id."""


def error_handler(settings: Settings, engine: Engine | None = None) -> Any:
    """An RQ exception handler recording the job's error (once: a recorded run inside the
    job has already counted the same exception). It runs in the job's forked process, so by
    default on that process's own engine (``job_engine``), never on one the fork copied."""

    def handle(
        job: Any,
        _kind: type[BaseException],
        error: BaseException,
        _tb: TracebackType | None,
    ) -> bool:
        meta = job.meta if isinstance(job.meta, dict) else {}
        context = {
            "job": getattr(job, "func_name", "?"),
            "job_id": job.id,
            "queue": job.origin,
            "request_id": meta.get(REQUEST_ID_META),
        }
        record_job_error(engine or job_engine(settings), error, settings=settings, context=context)
        return True

    return handle


class KeptProcessWorker(RequestBound, SimpleWorker):
    """Runs each job in this process, keeping what jobs build once per process."""


class MetricsWorker(CryptoLensWorker):
    """RQ's worker, folding each finished horse's metrics into the worker's files."""

    metrics_dir: Path

    def execute_job(self, job: Any, queue: Any) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            metrics_files.fold_horses(self.metrics_dir, os.getpid())


def run_worker(
    redis: Redis[bytes],
    *,
    burst: bool,
    metrics_dir: Path | None,
    settings: Settings | None = None,
    queue_names: Sequence[str] | None = None,
    fork: bool = True,
) -> None:
    """Work ``queue_names`` (by default high, default and low, in that order) until stopped;
    with ``settings``, a failing job is counted in error tracking; ``fork=False`` runs the
    jobs in this process (``KeptProcessWorker``)."""
    names = list(queue_names) if queue_names else [name.value for name in PRIORITY]
    queues = [Queue(name, connection=redis) for name in names]
    handlers = [error_handler(settings)] if settings is not None else []
    if metrics_dir is not None:
        # A worker starting: files of workers that are gone go (as a restarted web's do).
        metrics_files.clear_gone(metrics_dir)
        metrics.use_directory(metrics_dir, metrics_files.horse_role(os.getpid()))
    worker: BaseWorker
    if not fork:
        worker = KeptProcessWorker(queues, connection=redis, exception_handlers=handlers)
    elif metrics_dir is not None:
        worker = MetricsWorker(queues, connection=redis, exception_handlers=handlers)
        worker.metrics_dir = metrics_dir
    else:
        worker = CryptoLensWorker(queues, connection=redis, exception_handlers=handlers)
    try:
        worker.work(burst=burst, with_scheduler=False)
    finally:
        close_scan_sessions()
