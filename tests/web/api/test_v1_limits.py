"""Rate limits (429 with Retry-After and RateLimit-*), per key and per endpoint, in memory and in
Redis; CSRF still guards cookie-authenticated writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import Engine

from cryptolens import create_app
from cryptolens.domain.api_scopes import RateLimits
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.ops.background import wait_for_background
from tests.builders.api import CLOSED_EXCHANGE, call, make_key
from tests.builders.db import clear_tables
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Person, csrf_token, make_user, sign_in
from tests.web.seeding import add_symbol


def _assert_throttled(response: object, limit: str) -> None:
    assert response.status_code == 429  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    assert int(headers["Retry-After"]) > 0
    assert headers["RateLimit-Limit"] == limit
    assert headers["RateLimit-Remaining"] == "0"
    assert int(headers["RateLimit-Reset"]) > 0
    assert response.json["success"] is False  # type: ignore[attr-defined]


def test_a_keys_own_minute_limit_answers_429_past_it(app: Flask, premium_user: Person) -> None:
    key = make_key(app, premium_user.id, limits=RateLimits(minute=2))
    client = app.test_client()
    first = call(client, "GET", "/api/v1/symbols", key)
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "2"
    assert first.headers["RateLimit-Remaining"] == "1"
    assert call(client, "GET", "/api/v1/patterns", key).status_code == 200  # shared budget
    _assert_throttled(call(client, "GET", "/api/v1/symbols", key), "2")
    other = make_key(app, premium_user.id, limits=RateLimits(minute=2))
    assert call(client, "GET", "/api/v1/symbols", other).status_code == 200  # per key


def test_scan_is_limited_to_one_a_minute(app: Flask, premium_user: Person) -> None:
    key = make_key(app, premium_user.id, ["write:scan"])
    client = app.test_client()
    assert call(client, "POST", "/api/v1/scan", key, json={}).status_code == 202
    second = call(client, "POST", "/api/v1/scan", key, json={})
    _assert_throttled(second, "1")
    assert "scan allows 1 per minute" in second.json["error"]
    # fetch has its own allowance
    assert call(client, "POST", "/api/v1/fetch", key, json={}).status_code == 202


def test_fetch_allows_five_a_minute(app: Flask, premium_user: Person) -> None:
    key = make_key(app, premium_user.id, ["write:scan"])
    client = app.test_client()
    answers = [call(client, "POST", "/api/v1/fetch", key, json={}).status_code for _ in range(6)]
    assert answers == [202] * 5 + [429]


def test_cookie_writes_still_need_the_csrf_token(app: Flask, premium_user: Person) -> None:
    client = app.test_client()
    assert sign_in(client, premium_user).status_code == 302
    refused = client.post("/api/v1/scan", json={})
    assert refused.status_code == 403
    assert "CSRF" in refused.json["error"]
    accepted = client.post("/api/v1/scan", json={}, headers={"X-CSRFToken": csrf_token(client)})
    assert accepted.status_code == 202
    assert accepted.json["data"]["runner"] == "thread"


def test_a_key_needs_no_csrf_token(app: Flask, premium_user: Person) -> None:
    key = make_key(app, premium_user.id, ["write:scan"])
    assert call(app.test_client(), "POST", "/api/v1/scan", key, json={}).status_code == 202


@pytest.fixture
def redis_app(
    redis_url: str, database_url: str, tmp_path: Path, migrated_engine: Engine
) -> Iterator[Flask]:
    Redis.from_url(redis_url).flushdb()  # this suite's own database: old counters go
    settings = make_settings(
        database_url=database_url,
        instance_dir=tmp_path / "instance",
        redis_url=redis_url,
        exchange_api_url=CLOSED_EXCHANGE,
    )
    application = create_app(settings)
    yield application
    wait_for_background()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    clear_tables(migrated_engine)


def test_limits_are_counted_in_redis_across_apps(redis_app: Flask, redis_url: str) -> None:
    """Two app instances (two gunicorn workers) share one count through Redis."""
    user = make_user(redis_app, "premium@example.com", plan="premium")
    key = make_key(redis_app, user.id, limits=RateLimits(minute=3))
    other_worker = create_app(app_settings(redis_app))
    first, second = redis_app.test_client(), other_worker.test_client()
    assert call(first, "GET", "/api/v1/symbols", key).status_code == 200
    assert call(second, "GET", "/api/v1/symbols", key).status_code == 200
    assert call(first, "GET", "/api/v1/symbols", key).status_code == 200
    _assert_throttled(call(second, "GET", "/api/v1/symbols", key), "3")
    stored = Redis.from_url(redis_url).keys("cryptolens*")
    assert stored, "the limiter wrote its counters to Redis"
    with other_worker.app_context():
        db.session.remove()
        db.engine.dispose()


def test_actions_queue_rq_jobs_with_redis(redis_app: Flask, redis_url: str) -> None:
    admin = make_user(redis_app, "admin@example.com", admin=True)
    with redis_app.app_context():
        add_symbol(db.session, "BTC/USDT")
        db.session.commit()
    key = make_key(redis_app, admin.id)
    client = redis_app.test_client()
    scan = call(client, "POST", "/api/v1/scan", key, json={"symbols": ["btc/usdt"]})
    assert scan.status_code == 202
    assert scan.json["data"] == {"job": "scan", "symbols": ["BTC/USDT"], "runner": "rq"}
    run = call(client, "POST", "/api/v1/scheduler/jobs/refresh_stats/run", key)
    assert run.status_code == 202
    connection = Redis.from_url(redis_url)
    queued = [job.func_name for job in Queue("default", connection=connection).jobs]
    assert queued == ["cryptolens.jobs.tasks.scan_symbol_job"]
    low = [job.args for job in Queue("low", connection=connection).jobs]
    assert low == [("refresh_stats",)]
    unknown = call(client, "POST", "/api/v1/scheduler/jobs/nope/run", key)
    assert unknown.status_code == 404
