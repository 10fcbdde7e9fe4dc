"""Background work carries the id of the request that started it: into the thread that runs
it without Redis, and into the job's meta with Redis (the worker restores it)."""

from __future__ import annotations

from redis import Redis
from rq import Queue

from cryptolens.domain.jobs import JobSpec, QueueName
from cryptolens.logs import current_request_id, request_id_bound
from cryptolens.services.ops.background import REQUEST_ID_META, Background, wait_for_background

SPEC = JobSpec(
    name="speak",
    function="tests.services.ops.test_background.speak",
    queue=QueueName.LOW,
    timeout=30,
)


def speak() -> str | None:
    return current_request_id()


def test_a_thread_started_by_a_request_runs_under_its_id() -> None:
    seen: list[str | None] = []
    with request_id_bound("req-thread"):
        Background(None).submit(SPEC, inline=lambda: seen.append(current_request_id()))
    wait_for_background()
    assert seen == ["req-thread"]


def test_an_enqueued_job_carries_the_request_id_in_its_meta(redis_url: str) -> None:
    redis: Redis[bytes] = Redis.from_url(redis_url)
    queue = Queue(SPEC.queue.value, connection=redis)
    queue.empty()
    with request_id_bound("req-queued"):
        assert Background(redis).enqueue(SPEC)
    [queued] = queue.get_jobs()
    assert queued.meta[REQUEST_ID_META] == "req-queued"
    queue.empty()


def test_without_a_request_the_meta_says_so(redis_url: str) -> None:
    redis: Redis[bytes] = Redis.from_url(redis_url)
    queue = Queue(SPEC.queue.value, connection=redis)
    queue.empty()
    assert Background(redis).enqueue(SPEC)
    [queued] = queue.get_jobs()
    assert REQUEST_ID_META not in queued.meta
    queue.empty()
