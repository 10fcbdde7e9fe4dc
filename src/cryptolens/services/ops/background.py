"""Work off the request path: the registered RQ job (its queue, entry point and timeout from
the job registry) when Redis is configured (the job takes ids and primitives), otherwise a
daemon thread running the same work in-process."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from cryptolens.domain.jobs import JobSpec
from cryptolens.logs import current_request_id

#: Job meta key carrying the enqueuing request's id (the worker restores it for the job).
REQUEST_ID_META = "request_id"

log = logging.getLogger(__name__)

_threads: list[threading.Thread] = []
_threads_lock = threading.Lock()


class Background:
    """Runs the registered ``job`` with ``args`` on a worker, or ``inline()`` in a thread
    without Redis."""

    def __init__(self, redis: Redis[bytes] | None) -> None:
        self._redis = redis

    def enqueue(self, job: JobSpec, *args: object) -> bool:
        """Put ``job`` on its queue; False without Redis or when Redis is unavailable (the
        caller then does the work itself)."""
        if self._redis is None:
            return False
        request_id = current_request_id()
        try:
            Queue(job.queue.value, connection=self._redis).enqueue(
                job.function,
                *args,
                job_timeout=job.timeout,
                result_ttl=3600,
                meta={REQUEST_ID_META: request_id} if request_id else {},
            )
        except RedisError:
            log.warning("Redis unavailable; running %s here", job.name)
            return False
        return True

    def enqueue_once(self, job: JobSpec, key: str, *args: object) -> bool:
        """``enqueue``, unless a job that holds ``key`` is still waiting in the queue (the
        job lets go of it with ``release`` as it starts, so a change made while it runs
        queues another); False without Redis or when Redis is unavailable."""
        if self._redis is None:
            return False
        try:
            if not self._redis.set(key, b"1", nx=True, ex=job.timeout):
                return True
        except RedisError:
            log.warning("Redis unavailable; %s not queued", job.name)
            return False
        if self.enqueue(job, *args):
            return True
        release(self._redis, key)
        return False

    def submit(self, job: JobSpec, *args: object, inline: Callable[[], object]) -> None:
        if self.enqueue(job, *args):
            return
        # The thread runs in a copy of this context: its logs carry the request's id.
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(_logged, job.name, inline), daemon=True)
        with _threads_lock:
            _threads[:] = [t for t in _threads if t.is_alive()]
            _threads.append(thread)
        thread.start()


def release(redis: Redis[bytes] | None, key: str) -> None:
    """Let go of an ``enqueue_once`` key (a job calls this as it starts)."""
    if redis is None:
        return
    try:
        redis.delete(key)
    except RedisError:
        log.warning("Redis unavailable; %s expires on its own", key)


def _logged(job: str, work: Callable[[], object]) -> None:
    try:
        work()
    except Exception:
        log.exception("background %s failed", job)


def wait_for_background(timeout: float = 10.0) -> None:
    """Join the threads still running (at shutdown, and in tests)."""
    with _threads_lock:
        running = list(_threads)
    for thread in running:
        thread.join(timeout)
