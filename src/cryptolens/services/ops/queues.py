"""The worker queues as an administrator sees them: counts per queue, failed jobs with their
error, retry and cancel (RQ registries). ``None`` answers mean Redis is not configured or not
reachable; the page says so."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from cryptolens.domain.errors import ConflictError, NotFoundError
from cryptolens.domain.jobs import PRIORITY

log = logging.getLogger(__name__)
MAX_FAILED = 50
MAX_ERROR = 2000


@dataclass(frozen=True, slots=True)
class QueueCount:
    name: str
    queued: int
    started: int
    failed: int
    scheduled: int


@dataclass(frozen=True, slots=True)
class FailedJob:
    id: str
    queue: str
    description: str
    ended_at: datetime | None
    error: str


def queue_counts(redis: Redis[bytes] | None) -> list[QueueCount] | None:
    """Counts per queue, most urgent first; None without a reachable Redis."""
    if redis is None:
        return None
    try:
        counts = []
        for name in PRIORITY:
            queue = Queue(name.value, connection=redis)
            counts.append(
                QueueCount(
                    name=name.value,
                    queued=queue.count,
                    started=queue.started_job_registry.count,
                    failed=queue.failed_job_registry.count,
                    scheduled=queue.scheduled_job_registry.count,
                )
            )
        return counts
    except RedisError:
        log.warning("Redis unavailable for queue counts", exc_info=True)
        return None


def failed_jobs(redis: Redis[bytes] | None, *, limit: int = MAX_FAILED) -> list[FailedJob] | None:
    """The newest failed jobs of every queue with the end of their error."""
    if redis is None:
        return None
    try:
        found: list[FailedJob] = []
        for name in PRIORITY:
            registry = FailedJobRegistry(name.value, connection=redis)
            ids = registry.get_job_ids(0, limit - 1)
            for job in Job.fetch_many(ids, connection=redis):
                if job is None:
                    continue
                result = job.latest_result()
                error = (result.exc_string if result is not None else None) or ""
                found.append(
                    FailedJob(
                        id=job.id,
                        queue=name.value,
                        description=job.description or job.func_name or "",
                        ended_at=job.ended_at,
                        error=error[-MAX_ERROR:],
                    )
                )
        return found[:limit]
    except RedisError:
        log.warning("Redis unavailable for failed jobs", exc_info=True)
        return None


def _job(redis: Redis[bytes] | None, job_id: str) -> Job:
    if redis is None:
        raise ConflictError("There is no worker queue here (REDIS_URL is not set).")
    try:
        return Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        raise NotFoundError("No such job (it may have expired).") from None


def retry_job(redis: Redis[bytes] | None, job_id: str) -> str:
    """Put a failed job back on its queue; returns its queue's name."""
    job = _job(redis, job_id)
    try:
        job.requeue()
    except InvalidJobOperation:
        raise ConflictError("Only a failed job can be retried.") from None
    return job.origin


def cancel_job(redis: Redis[bytes] | None, job_id: str) -> str:
    """Cancel a queued or failed job (it will not run); returns its queue's name."""
    job = _job(redis, job_id)
    try:
        job.cancel()
    except InvalidJobOperation as error:
        raise ConflictError(f"The job cannot be cancelled: {error}") from None
    return job.origin
