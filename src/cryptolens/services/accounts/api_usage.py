"""API key usage without a database write per request: requests are counted in Redis (shared
by every web process) or, without Redis, in the process; a flush writes the counts into
``api_key_usage`` and the last use into ``api_keys`` in one transaction.

With Redis the scheduled job ``flush_api_usage`` drains the counts every minute; without it
each web process drains its own counter at most once a minute (``MemoryUsage.due``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from redis import Redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cryptolens.db.api_keys import ApiKey, ApiKeyUsage
from cryptolens.db.upsert import upsert_rows

REQUESTS_KEY = "cryptolens:api:requests"  # hash "<key id>:<YYYY-MM-DD>" -> count
LAST_USED_KEY = "cryptolens:api:last_used"  # hash "<key id>" -> "<epoch seconds>|<ip>"
FLUSH_EVERY = timedelta(minutes=1)


@dataclass
class Usage:
    """Counts not yet written: requests per (key, UTC day) and each key's last use."""

    requests: dict[tuple[int, date], int] = field(default_factory=dict)
    last_used: dict[int, tuple[datetime, str | None]] = field(default_factory=dict)

    def add(self, key_id: int, *, ip: str | None, now: datetime, count: int = 1) -> None:
        slot = (key_id, now.astimezone(UTC).date())
        self.requests[slot] = self.requests.get(slot, 0) + count
        seen = self.last_used.get(key_id)
        if seen is None or seen[0] <= now:
            self.last_used[key_id] = (now, ip)

    def __bool__(self) -> bool:
        return bool(self.requests or self.last_used)


class UsageCounter(Protocol):
    def count(self, key_id: int, *, ip: str | None, now: datetime) -> None: ...

    def drain(self) -> Usage:
        """Take every count so far (they are gone from the counter)."""
        ...

    def give_back(self, usage: Usage) -> None:
        """Return counts a failed flush could not write."""
        ...


class MemoryUsage:
    """Counts in this process (no Redis); ``due`` says when to flush them."""

    def __init__(self, *, flush_every: timedelta = FLUSH_EVERY) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()
        self._flush_every = flush_every
        self._flushed_at: datetime | None = None

    def count(self, key_id: int, *, ip: str | None, now: datetime) -> None:
        with self._lock:
            self._usage.add(key_id, ip=ip, now=now)

    def drain(self) -> Usage:
        with self._lock:
            usage, self._usage = self._usage, Usage()
        return usage

    def give_back(self, usage: Usage) -> None:
        with self._lock:
            _merge(self._usage, usage)

    def due(self, now: datetime) -> bool:
        """True once a flush period has passed since the last time this said True."""
        with self._lock:
            if self._flushed_at is not None and now - self._flushed_at < self._flush_every:
                return False
            self._flushed_at = now
            return self._usage.__bool__()


def _merge(into: Usage, usage: Usage) -> None:
    for (key_id, day), count in usage.requests.items():
        into.requests[(key_id, day)] = into.requests.get((key_id, day), 0) + count
    for key_id, (when, ip) in usage.last_used.items():
        seen = into.last_used.get(key_id)
        if seen is None or seen[0] <= when:
            into.last_used[key_id] = (when, ip)


class RedisUsage:
    """Counts in Redis, shared by every process: one pipelined round trip per request."""

    def __init__(self, redis: Redis[bytes]) -> None:
        self._redis = redis

    def count(self, key_id: int, *, ip: str | None, now: datetime) -> None:
        day = now.astimezone(UTC).date().isoformat()
        pipe = self._redis.pipeline(transaction=False)
        pipe.hincrby(REQUESTS_KEY, f"{key_id}:{day}", 1)
        pipe.hset(LAST_USED_KEY, str(key_id), f"{now.timestamp():.3f}|{ip or ''}")
        pipe.execute()

    def drain(self) -> Usage:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(REQUESTS_KEY)
        pipe.hgetall(LAST_USED_KEY)
        pipe.delete(REQUESTS_KEY, LAST_USED_KEY)
        requests, last_used, _ = pipe.execute()
        return _parse(requests, last_used)

    def give_back(self, usage: Usage) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for (key_id, day), count in usage.requests.items():
            pipe.hincrby(REQUESTS_KEY, f"{key_id}:{day.isoformat()}", count)
        for key_id, (when, ip) in usage.last_used.items():
            # A newer use recorded since the drain wins.
            pipe.hsetnx(LAST_USED_KEY, str(key_id), f"{when.timestamp():.3f}|{ip or ''}")
        pipe.execute()


def _parse(requests: Mapping[bytes, bytes], last_used: Mapping[bytes, bytes]) -> Usage:
    usage = Usage()
    for raw_slot, raw_count in requests.items():
        key_id, _, day = raw_slot.decode().partition(":")
        usage.requests[(int(key_id), date.fromisoformat(day))] = int(raw_count)
    for raw_key, raw_value in last_used.items():
        stamp, _, ip = raw_value.decode().partition("|")
        when = datetime.fromtimestamp(float(stamp), UTC)
        usage.last_used[int(raw_key)] = (when, ip or None)
    return usage


def write_usage(session: Session, usage: Usage) -> int:
    """Add ``usage`` to the stored counts and last uses (keys deleted since are skipped);
    returns the requests written. The caller commits."""
    ids = {key_id for key_id, _ in usage.requests} | set(usage.last_used)
    if not ids:
        return 0
    live = set(session.scalars(select(ApiKey.id).where(ApiKey.id.in_(sorted(ids)))).all())
    slots = {slot: n for slot, n in usage.requests.items() if slot[0] in live}
    if slots:
        upsert_rows(
            session.connection(),
            ApiKeyUsage.__table__,  # type: ignore[arg-type]
            [{"key_id": k, "day": d, "requests": 0} for k, d in sorted(slots)],
            key=("key_id", "day"),
            update=(),
        )
        for (key_id, day), count in sorted(slots.items()):
            session.execute(
                update(ApiKeyUsage)
                .where(ApiKeyUsage.key_id == key_id, ApiKeyUsage.day == day)
                .values(requests=ApiKeyUsage.requests + count)
            )
    for key_id, (when, ip) in sorted(usage.last_used.items()):
        if key_id not in live:
            continue
        session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < when),
            )
            .values(last_used_at=when, last_used_ip=ip)
        )
    return sum(slots.values())


def flush_usage(session: Session, counter: UsageCounter) -> int:
    """Drain ``counter`` into the database in one transaction; on failure the counts go back
    to the counter and the error is raised. Returns the requests written."""
    usage = counter.drain()
    if not usage:
        return 0
    try:
        written = write_usage(session, usage)
        session.commit()
    except Exception:
        session.rollback()
        counter.give_back(usage)
        raise
    return written
