"""Attempts are recorded before they are judged, atomically, in a store workers share."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import Engine, func, select

from cryptolens.db.attempts import AuthAttempt
from cryptolens.domain.errors import ThrottledError
from cryptolens.domain.throttle import Limit
from cryptolens.extensions import db
from cryptolens.services.accounts.attempts import (
    AttemptStore,
    DatabaseAttempts,
    RedisAttempts,
    bucket_name,
    record_attempt,
)

NOW_MS = 1_767_225_600_000
FIVE = (Limit(5, 900),)


def _message(wait: int) -> str:
    return f"wait {wait}"


def _race(store: AttemptStore, bucket: str, attempts: int) -> list[bool]:
    """``attempts`` threads record at once; which of them were allowed."""
    barrier = threading.Barrier(attempts)
    allowed: list[bool] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        try:
            record_attempt(store, [(bucket, FIVE)], now_ms=NOW_MS, message=_message)
            outcome = True
        except ThrottledError:
            outcome = False
        with lock:
            allowed.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return allowed


@pytest.fixture
def engine(app: Flask) -> Iterator[Engine]:
    with app.app_context():
        yield db.engine


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(redis_url)
    bucket = bucket_name("test-race")
    client.delete(f"cryptolens:attempts:{bucket}")
    yield client
    client.delete(f"cryptolens:attempts:{bucket}")
    client.close()


def test_parallel_attempts_in_the_database_never_all_slip_under_the_limit(engine: Engine) -> None:
    allowed = _race(DatabaseAttempts(engine), bucket_name("test-race"), 19)
    assert len(allowed) == 19
    # Insert-then-count fails closed: a burst may be refused more than the limit requires.
    assert allowed.count(True) <= 5


def test_parallel_attempts_in_redis_never_all_slip_under_the_limit(
    redis: Redis[bytes],
) -> None:
    allowed = _race(RedisAttempts(redis), bucket_name("test-race"), 19)
    assert len(allowed) == 19
    assert allowed.count(True) == 5  # MULTI/EXEC serialises them exactly


@pytest.mark.parametrize("kind", ["database", "redis"])
def test_a_refused_attempt_says_how_long_to_wait(kind: str, request: pytest.FixtureRequest) -> None:
    store: AttemptStore = (
        DatabaseAttempts(request.getfixturevalue("engine"))
        if kind == "database"
        else RedisAttempts(request.getfixturevalue("redis"))
    )
    bucket = bucket_name("test-race")
    for second in range(5):
        record_attempt(store, [(bucket, FIVE)], now_ms=NOW_MS + second * 1000, message=_message)
    with pytest.raises(ThrottledError) as refused:
        record_attempt(store, [(bucket, FIVE)], now_ms=NOW_MS + 10_000, message=_message)
    assert refused.value.retry_after == 891
    assert str(refused.value) == "wait 891"


def test_a_forgotten_attempt_no_longer_counts(engine: Engine) -> None:
    store = DatabaseAttempts(engine)
    bucket = bucket_name("test-forget")
    for _ in range(5):
        record_attempt(store, [(bucket, FIVE)], now_ms=NOW_MS, message=_message).forget()
    record_attempt(store, [(bucket, FIVE)], now_ms=NOW_MS, message=_message)


def test_old_attempts_are_purged_as_new_ones_arrive(engine: Engine) -> None:
    store = DatabaseAttempts(engine)
    bucket = bucket_name("test-purge")
    record_attempt(store, [(bucket, FIVE)], now_ms=NOW_MS, message=_message)
    record_attempt(store, [(bucket, FIVE)], now_ms=NOW_MS + 901_000, message=_message)
    with engine.connect() as connection:
        stored = connection.scalar(
            select(func.count()).select_from(AuthAttempt).where(AuthAttempt.bucket == bucket)
        )
    assert stored == 1
