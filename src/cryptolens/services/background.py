"""Work off the request path: an RQ job on queue ``high`` when Redis is configured (the job
takes ids and primitives), otherwise a daemon thread running the same work in-process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

log = logging.getLogger(__name__)

QUEUE = "high"
JOB_TIMEOUT_SECONDS = 60

_threads: list[threading.Thread] = []
_threads_lock = threading.Lock()


class Background:
    """Runs ``job(*args)`` on a worker, or ``inline()`` in a thread without Redis."""

    def __init__(self, redis: Redis[bytes] | None) -> None:
        self._redis = redis

    def submit(self, job: str, *args: object, inline: Callable[[], object]) -> None:
        if self._redis is not None:
            try:
                Queue(QUEUE, connection=self._redis).enqueue(
                    job, *args, job_timeout=JOB_TIMEOUT_SECONDS, result_ttl=3600
                )
                return
            except RedisError:
                log.warning("Redis unavailable; running %s in a thread", job)
        thread = threading.Thread(target=_logged, args=(job, inline), daemon=True)
        with _threads_lock:
            _threads[:] = [t for t in _threads if t.is_alive()]
            _threads.append(thread)
        thread.start()


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
