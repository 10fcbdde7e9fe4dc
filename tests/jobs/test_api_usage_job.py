"""The scheduled flush of API key usage counted in Redis."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.db.api_keys import ApiKey, ApiKeyUsage
from cryptolens.db.models import JobRun
from cryptolens.jobs import tasks
from cryptolens.services.accounts.api_usage import LAST_USED_KEY, REQUESTS_KEY, RedisUsage
from tests.builders.api_keys import make_key
from tests.builders.settings import TEST_SECRET
from tests.web.accounts_helpers import make_user

NOW = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    for name, value in {
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)


def _key(app: Flask) -> int:
    return make_key(app, make_user(app, "bot@example.com", plan="premium").id)[0]


def test_the_job_writes_redis_counts_and_records_its_run(
    app: Flask,
    migrated_engine: Engine,
    worker_env: None,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    redis: Redis[bytes] = Redis.from_url(redis_url)
    redis.delete(REQUESTS_KEY, LAST_USED_KEY)
    key_id = _key(app)
    counter = RedisUsage(redis)
    for _ in range(3):
        counter.count(key_id, ip="198.51.100.4", now=NOW)

    assert tasks.run_job("flush_api_usage") == {"requests": 3}

    with Session(migrated_engine) as session:
        assert session.scalars(select(ApiKeyUsage.requests)).all() == [3]
        key = session.get(ApiKey, key_id)
        assert key is not None
        assert (key.last_used_at, key.last_used_ip) == (NOW, "198.51.100.4")
        run = session.scalars(select(JobRun).where(JobRun.name == "flush_api_usage")).one()
        assert run.status == "succeeded"
    redis.close()


def test_without_redis_the_job_says_the_web_processes_write_their_own(
    app: Flask, worker_env: None
) -> None:
    result = tasks.run_job("flush_api_usage")
    assert result["requests"] == 0
    assert "no Redis" in result["reason"]
