from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from cryptolens.db.api_keys import ApiKey, ApiKeyUsage
from cryptolens.services.accounts.api_usage import (
    LAST_USED_KEY,
    REQUESTS_KEY,
    MemoryUsage,
    RedisUsage,
    Usage,
    UsageCounter,
    flush_usage,
)
from tests.builders.api_keys import make_key
from tests.web.accounts_helpers import make_user

DAY_1 = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(minutes=2)


@pytest.fixture
def key_ids(app: Flask) -> list[int]:
    user_id = make_user(app, "counted@example.com", plan="premium").id
    return [make_key(app, user_id, name=f"k{n}")[0] for n in range(2)]


def _stored(engine: Engine) -> tuple[dict[tuple[int, date], int], dict[int, tuple[object, ...]]]:
    with Session(engine) as session:
        usage = {
            (row.key_id, row.day): row.requests for row in session.scalars(select(ApiKeyUsage))
        }
        last = {
            row.id: (row.last_used_at, row.last_used_ip) for row in session.scalars(select(ApiKey))
        }
    return usage, last


def _count(counter: UsageCounter, key_ids: list[int]) -> None:
    first, second = key_ids
    counter.count(first, ip="10.0.0.1", now=DAY_1)
    counter.count(first, ip="10.0.0.2", now=DAY_2)
    counter.count(first, ip="10.0.0.3", now=DAY_2)
    counter.count(second, ip="2001:db8::1", now=DAY_1)


def _expect_counted(engine: Engine, key_ids: list[int], *, times: int = 1) -> None:
    first, second = key_ids
    usage, last = _stored(engine)
    assert usage == {
        (first, DAY_1.date()): 1 * times,
        (first, DAY_2.date()): 2 * times,
        (second, DAY_1.date()): 1 * times,
    }
    assert last[first] == (DAY_2, "10.0.0.3")
    assert last[second] == (DAY_1, "2001:db8::1")


def test_memory_counts_are_written_per_key_and_day_and_added_on_the_next_flush(
    app: Flask, migrated_engine: Engine, key_ids: list[int]
) -> None:
    counter = MemoryUsage()
    _count(counter, key_ids)
    with Session(migrated_engine) as session:
        assert flush_usage(session, counter) == 4
        assert flush_usage(session, counter) == 0  # drained
    _expect_counted(migrated_engine, key_ids)
    _count(counter, key_ids)
    with Session(migrated_engine) as session:
        flush_usage(session, counter)
    _expect_counted(migrated_engine, key_ids, times=2)


def test_an_older_last_use_does_not_overwrite_a_newer_one(
    app: Flask, migrated_engine: Engine, key_ids: list[int]
) -> None:
    counter = MemoryUsage()
    counter.count(key_ids[0], ip="10.0.0.9", now=DAY_2)
    with Session(migrated_engine) as session:
        flush_usage(session, counter)
    counter.count(key_ids[0], ip="10.0.0.1", now=DAY_1)  # e.g. counted late by another process
    with Session(migrated_engine) as session:
        flush_usage(session, counter)
    assert _stored(migrated_engine)[1][key_ids[0]] == (DAY_2, "10.0.0.9")


def test_counts_of_a_deleted_key_are_dropped(
    app: Flask, migrated_engine: Engine, key_ids: list[int]
) -> None:
    counter = MemoryUsage()
    _count(counter, key_ids)
    with Session(migrated_engine) as session:
        session.execute(delete(ApiKey).where(ApiKey.id == key_ids[1]))
        session.commit()
        assert flush_usage(session, counter) == 3
    assert set(_stored(migrated_engine)[0]) == {
        (key_ids[0], DAY_1.date()),
        (key_ids[0], DAY_2.date()),
    }


class _BrokenSession(Session):
    def commit(self) -> None:
        raise RuntimeError("database went away")


def test_a_failed_flush_gives_the_counts_back(
    app: Flask, migrated_engine: Engine, key_ids: list[int]
) -> None:
    counter = MemoryUsage()
    _count(counter, key_ids)
    with _BrokenSession(migrated_engine) as session, pytest.raises(RuntimeError):
        flush_usage(session, counter)
    with Session(migrated_engine) as session:
        assert flush_usage(session, counter) == 4
    _expect_counted(migrated_engine, key_ids)


def test_a_process_flushes_its_own_counts_at_most_once_a_minute() -> None:
    counter = MemoryUsage(flush_every=timedelta(minutes=1))
    counter.count(1, ip=None, now=DAY_1)
    assert counter.due(DAY_1)
    assert not counter.due(DAY_1 + timedelta(seconds=59))
    assert counter.due(DAY_1 + timedelta(minutes=1))
    assert not Usage()


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(redis_url)
    client.delete(REQUESTS_KEY, LAST_USED_KEY)
    yield client
    client.delete(REQUESTS_KEY, LAST_USED_KEY)
    client.close()


def test_redis_counts_from_several_processes_are_drained_into_the_database(
    app: Flask, migrated_engine: Engine, key_ids: list[int], redis: Redis[bytes]
) -> None:
    # Two counters on one Redis stand for two web processes.
    first, second = key_ids
    one, two = RedisUsage(redis), RedisUsage(redis)
    one.count(first, ip="10.0.0.1", now=DAY_1)
    two.count(first, ip="10.0.0.2", now=DAY_2)
    one.count(first, ip="10.0.0.3", now=DAY_2)
    two.count(second, ip="2001:db8::1", now=DAY_1)
    with Session(migrated_engine) as session:
        assert flush_usage(session, RedisUsage(redis)) == 4
    _expect_counted(migrated_engine, key_ids)
    assert not redis.exists(REQUESTS_KEY, LAST_USED_KEY)


def test_redis_counts_go_back_when_the_flush_fails(
    app: Flask, migrated_engine: Engine, key_ids: list[int], redis: Redis[bytes]
) -> None:
    counter = RedisUsage(redis)
    _count(counter, key_ids)
    with _BrokenSession(migrated_engine) as session, pytest.raises(RuntimeError):
        flush_usage(session, counter)
    with Session(migrated_engine) as session:
        assert flush_usage(session, counter) == 4
    _expect_counted(migrated_engine, key_ids)
