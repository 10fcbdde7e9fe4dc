"""Queues as the admin panel sees them, against a real Redis: counts, a failed job with its
error, retry puts it back, cancel takes it off. Without Redis every answer is None."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry

from cryptolens.domain.errors import ConflictError, NotFoundError
from cryptolens.domain.jobs import PRIORITY
from cryptolens.services.ops.queues import (
    cancel_job,
    failed_jobs,
    queue_counts,
    retry_job,
)


def _empty(client: Redis[bytes]) -> None:
    for name in PRIORITY:
        queue = Queue(name.value, connection=client)
        queue.empty()
        failed = FailedJobRegistry(name.value, connection=client)
        for job_id in failed.get_job_ids():
            failed.remove(job_id, delete_job=True)


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(redis_url)
    _empty(client)
    yield client
    _empty(client)
    client.close()


def test_without_redis_nothing_is_claimed() -> None:
    assert queue_counts(None) is None
    assert failed_jobs(None) is None
    with pytest.raises(ConflictError, match="REDIS_URL"):
        retry_job(None, "x")


@pytest.mark.redis
def test_a_failed_job_shows_its_error_and_is_retried_then_cancelled(redis: Redis[bytes]) -> None:
    queue = Queue("low", connection=redis)
    job = queue.enqueue("operator.truediv", 1, 0, description="divide by zero")
    SimpleWorker([queue], connection=redis).work(burst=True)
    counts = {c.name: c for c in queue_counts(redis) or []}
    assert (counts["low"].queued, counts["low"].failed) == (0, 1)
    (failed,) = failed_jobs(redis) or []
    assert (failed.id, failed.queue, failed.description) == (job.id, "low", "divide by zero")
    assert "ZeroDivisionError" in failed.error

    assert retry_job(redis, job.id) == "low"
    counts = {c.name: c for c in queue_counts(redis) or []}
    assert (counts["low"].queued, counts["low"].failed) == (1, 0)
    assert failed_jobs(redis) == []

    assert cancel_job(redis, job.id) == "low"
    assert queue.count == 0
    with pytest.raises(NotFoundError):
        retry_job(redis, "no-such-job")
