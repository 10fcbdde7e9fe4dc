"""The RQ worker: RQ's forking worker, recording job metrics into the multiprocess directory.

Each job runs in a forked work horse that records under ``rq<worker pid>h<horse pid>``; once
the horse is gone its counters are folded into the worker's own files, so the directory
holds a few files per worker however many jobs it has run (``infra.metrics_files``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Queue, Worker

from cryptolens.infra import metrics, metrics_files
from cryptolens.jobs.queues import PRIORITY


class MetricsWorker(Worker):
    """RQ's worker, folding each finished horse's metrics into the worker's files."""

    metrics_dir: Path

    def execute_job(self, job: Any, queue: Any) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            metrics_files.fold_horses(self.metrics_dir, os.getpid())


def run_worker(redis: Redis[bytes], *, burst: bool, metrics_dir: Path | None) -> None:
    """Work the high, default and low queues (in that order) until stopped."""
    queues = [Queue(name.value, connection=redis) for name in PRIORITY]
    if metrics_dir is None:
        Worker(queues, connection=redis).work(burst=burst, with_scheduler=False)
        return
    # A worker starting: files of workers that are gone go (as a restarted web's do).
    metrics_files.clear_gone(metrics_dir)
    metrics.use_directory(metrics_dir, metrics_files.horse_role(os.getpid()))
    worker = MetricsWorker(queues, connection=redis)
    worker.metrics_dir = metrics_dir
    worker.work(burst=burst, with_scheduler=False)
