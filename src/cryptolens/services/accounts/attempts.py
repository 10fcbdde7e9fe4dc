"""Counting attempts (sign-in, second factor, reset requests) in a store every worker shares.

An attempt is recorded before it is judged, atomically: Redis (one MULTI/EXEC per bucket)
when configured, else the database (insert, commit, then count). So parallel requests and
separate workers can never all slip under a limit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from redis import Redis
from sqlalchemy import Engine

from cryptolens.db import attempts as rows
from cryptolens.domain.errors import ThrottledError
from cryptolens.domain.throttle import Limit, horizon_ms, retry_after

_REDIS_PREFIX = "cryptolens:attempts:"


class AttemptStore(Protocol):
    def record(self, bucket: str, *, now_ms: int, horizon_ms: int) -> tuple[str, list[int]]:
        """Store one attempt; return its token and all attempt times within the horizon."""

    def discard(self, bucket: str, token: str) -> None: ...

    def clear(self, bucket: str) -> None: ...


class DatabaseAttempts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, bucket: str, *, now_ms: int, horizon_ms: int) -> tuple[str, list[int]]:
        return rows.record_attempt(
            self._engine, bucket=bucket, now_ms=now_ms, horizon_ms=horizon_ms
        )

    def discard(self, bucket: str, token: str) -> None:
        rows.discard_attempt(self._engine, bucket=bucket, token=token)

    def clear(self, bucket: str) -> None:
        rows.clear_attempts(self._engine, bucket=bucket)


class RedisAttempts:
    """One sorted set per bucket: members are attempt tokens, scores their times."""

    def __init__(self, client: Redis[bytes]) -> None:
        self._redis = client

    def record(self, bucket: str, *, now_ms: int, horizon_ms: int) -> tuple[str, list[int]]:
        key = _REDIS_PREFIX + bucket
        token = f"{now_ms}:{secrets.token_hex(8)}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now_ms - horizon_ms)
        pipe.zadd(key, {token: now_ms})
        pipe.zrange(key, 0, -1, withscores=True)
        pipe.pexpire(key, horizon_ms)
        members: list[tuple[bytes, float]] = pipe.execute()[2]
        return token, [int(score) for _, score in members]

    def discard(self, bucket: str, token: str) -> None:
        self._redis.zrem(_REDIS_PREFIX + bucket, token)

    def clear(self, bucket: str) -> None:
        self._redis.delete(_REDIS_PREFIX + bucket)


def bucket_name(*parts: str) -> str:
    """A fixed-length key for a bucket; emails and addresses are not stored in clear."""
    joined = "\x1f".join(parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Attempt:
    """An attempt that passed every limit; ``forget`` it when it turns out legitimate."""

    store: AttemptStore
    tokens: tuple[tuple[str, str], ...]

    def forget(self) -> None:
        for bucket, token in self.tokens:
            self.store.discard(bucket, token)


def record_attempt(
    store: AttemptStore,
    buckets: Sequence[tuple[str, Sequence[Limit]]],
    *,
    now_ms: int,
    message: Callable[[int], str],
) -> Attempt:
    """Record one attempt in each bucket, then refuse it if any bucket is over a limit.

    Raises ThrottledError (with the wait in seconds, ``message(wait)`` as its text).
    """
    tokens: list[tuple[str, str]] = []
    wait = 0
    for bucket, limits in buckets:
        token, times = store.record(bucket, now_ms=now_ms, horizon_ms=horizon_ms(limits))
        tokens.append((bucket, token))
        wait = max(wait, retry_after(times, now_ms=now_ms, limits=limits) or 0)
    if wait:
        raise ThrottledError(message(wait), retry_after=wait)
    return Attempt(store=store, tokens=tuple(tokens))
