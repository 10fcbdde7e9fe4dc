"""The RQ worker: RQ's forking worker, recording job metrics into the multiprocess directory.

Each job runs in a forked work horse that records under ``rq<worker pid>h<horse pid>``; once
the horse is gone its counters are folded into the worker's own files, so the directory
holds a few files per worker however many jobs it has run (``infra.metrics_files``).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

from redis import Redis
from rq import Queue, Worker
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.infra import metrics, metrics_files
from cryptolens.jobs.context import job_engine
from cryptolens.jobs.queues import PRIORITY
from cryptolens.logs import request_id_bound
from cryptolens.services.ops.background import REQUEST_ID_META
from cryptolens.services.ops.error_tracking import record_job_error


class CryptoLensWorker(Worker):
    """RQ's worker, running each job under the id of the request that enqueued it (its log
    lines carry it) and counting what a job raises in error tracking."""

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        meta = job.meta if isinstance(job.meta, dict) else {}
        request_id = meta.get(REQUEST_ID_META)
        with request_id_bound(request_id if isinstance(request_id, str) else None):
            return bool(super().perform_job(job, queue, execution))


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
) -> None:
    """Work the high, default and low queues (in that order) until stopped; with
    ``settings``, a failing job is counted in error tracking."""
    queues = [Queue(name.value, connection=redis) for name in PRIORITY]
    handlers = [error_handler(settings)] if settings is not None else []
    if metrics_dir is None:
        CryptoLensWorker(queues, connection=redis, exception_handlers=handlers).work(
            burst=burst, with_scheduler=False
        )
        return
    # A worker starting: files of workers that are gone go (as a restarted web's do).
    metrics_files.clear_gone(metrics_dir)
    metrics.use_directory(metrics_dir, metrics_files.horse_role(os.getpid()))
    worker = MetricsWorker(queues, connection=redis, exception_handlers=handlers)
    worker.metrics_dir = metrics_dir
    worker.work(burst=burst, with_scheduler=False)
