"""The in-process rate-limit storage: limits' fixed and moving windows as before, without a
timer thread per burst of requests."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from cryptolens import create_app
from cryptolens.extensions import limiter
from cryptolens.infra.limits_memory import SCHEME, SweepingMemoryStorage
from tests.builders.settings import make_settings


def _threads_started_by(work: object, storage: MemoryStorage) -> int:
    started = []
    real = threading.Thread.start

    def counting(thread: threading.Thread) -> None:
        started.append(thread)
        real(thread)

    threading.Thread.start = counting  # type: ignore[method-assign]
    try:
        for _ in range(50):
            work(storage)  # type: ignore[operator]
            time.sleep(0.002)
    finally:
        threading.Thread.start = real  # type: ignore[method-assign]
    return len(started)


def _hit(storage: MemoryStorage) -> None:
    FixedWindowRateLimiter(storage).hit(parse("1000/minute"), "k")


def test_the_scheme_names_this_storage() -> None:
    assert isinstance(storage_from_string(f"{SCHEME}://"), SweepingMemoryStorage)


def test_hits_start_no_threads_where_limits_memory_storage_starts_them() -> None:
    assert _threads_started_by(_hit, MemoryStorage()) > 0  # the cost this storage removes
    assert _threads_started_by(_hit, SweepingMemoryStorage()) == 0


@pytest.mark.parametrize("strategy", [FixedWindowRateLimiter, MovingWindowRateLimiter])
def test_a_limit_refuses_past_its_budget_and_allows_again_once_the_window_passed(
    strategy: type[FixedWindowRateLimiter],
) -> None:
    limiter = strategy(SweepingMemoryStorage())
    limit = parse("2/second")
    assert limiter.hit(limit, "key")
    assert limiter.hit(limit, "key")
    assert not limiter.hit(limit, "key")
    assert limiter.hit(limit, "other")
    time.sleep(1.05)
    assert limiter.hit(limit, "key")


def test_expired_counters_are_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = SweepingMemoryStorage()
    monkeypatch.setattr("cryptolens.infra.limits_memory.SWEEP_EVERY", 0.0)
    storage.incr("old", expiry=0.01)
    time.sleep(0.02)
    storage._next_sweep = 0.0
    storage.incr("new", expiry=60)
    assert "old" not in storage.storage
    assert storage.storage["new"] == 1


def test_an_app_without_redis_keeps_its_limits_in_this_storage(tmp_path: Path) -> None:
    app = create_app(make_settings(instance_dir=tmp_path, redis_url=None))
    with app.app_context():
        assert isinstance(limiter.storage, SweepingMemoryStorage)
