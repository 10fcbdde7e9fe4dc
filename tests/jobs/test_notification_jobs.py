"""The notification jobs as a worker runs them: settings from the environment, a recorded
run, safe to run twice; and on RQ's high queue when Redis is there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.models import JobRun
from cryptolens.domain.jobs import job
from cryptolens.jobs import tasks
from cryptolens.jobs.context import job_settings
from cryptolens.notify.targets import ChannelKind
from cryptolens.services.notifications.broadcast import create_broadcast
from tests.builders.db import clear_tables
from tests.builders.notifications import add_channel, add_notification, add_user, delivery
from tests.builders.notify_servers import NtfyServer
from tests.builders.settings import TEST_SECRET


@pytest.fixture
def worker_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    migrated_engine: Engine,
    ntfy_server: NtfyServer,
) -> Iterator[Engine]:
    """The environment a worker process would have, ntfy's default server the local one."""
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "NTFY_DEFAULT_URL": ntfy_server.url,
        "NOTIFY_ALLOW_PRIVATE_TARGETS": "true",  # ntfy_server listens on 127.0.0.1
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


def _runs(engine: Engine, name: str) -> list[tuple[str, str | None, dict[str, int] | None]]:
    with Session(engine) as session:
        rows = session.execute(
            select(JobRun.status, JobRun.target, JobRun.counts)
            .where(JobRun.name == name)
            .order_by(JobRun.id)
        ).all()
        return [(status, target, counts) for status, target, counts in rows]


def _broadcast(engine: Engine, users: int) -> int:
    for n in range(users):
        user = add_user(engine, f"u{n}@x.test")
        add_channel(engine, job_settings(), user, ChannelKind.NTFY, f"cl-user-{n}")
    with Session(engine) as session, session.begin():
        return create_broadcast(
            session, author_id=None, audience="all", title="Maintenance", body="At 03:00 UTC"
        )


def test_a_broadcast_job_sends_once_however_often_it_runs(
    worker_env: Engine, ntfy_server: NtfyServer
) -> None:
    broadcast_id = _broadcast(worker_env, 3)
    first = tasks.send_bulk_notifications_job(broadcast_id)
    again = tasks.send_bulk_notifications_job(broadcast_id)
    assert (first["fanout_queued"], first["sent"]) == (3, 3)
    assert (again["fanout_queued"], again["sent"]) == (0, 0)
    assert sorted(m["topic"] for m in ntfy_server.messages()) == [
        "cl-user-0",
        "cl-user-1",
        "cl-user-2",
    ]
    runs = _runs(worker_env, "send_bulk_notifications")
    assert [(status, target) for status, target, _ in runs] == [
        ("succeeded", str(broadcast_id)),
        ("succeeded", str(broadcast_id)),
    ]
    assert runs[0][2] == first


def test_a_signal_job_for_an_unknown_signal_is_a_recorded_run_that_sends_nothing(
    worker_env: Engine, ntfy_server: NtfyServer
) -> None:
    counts = tasks.send_signal_notifications_job(987654)
    assert counts["fanout_considered"] == 0
    assert counts["claimed"] == 0
    assert _runs(worker_env, "send_signal_notifications") == [("succeeded", "987654", counts)]
    assert ntfy_server.requests == []


def test_the_scheduled_job_delivers_what_became_due(
    worker_env: Engine, ntfy_server: NtfyServer
) -> None:
    user = add_user(worker_env, "late@x.test")
    add_channel(worker_env, job_settings(), user, ChannelKind.NTFY, "cl-late")
    [delivery_id] = add_notification(worker_env, user, deliver_after=utcnow())
    spec = job("deliver_notifications")
    assert (spec.queue.value, spec.every, spec.timeout) == ("high", 60, 60)
    counts = tasks.run_job("deliver_notifications")
    assert counts["sent"] == 1
    assert delivery(worker_env, delivery_id).status == "sent"
    assert len(ntfy_server.wait_for(1)) == 1


def test_with_redis_a_broadcast_is_an_rq_job_on_the_high_queue(
    worker_env: Engine, ntfy_server: NtfyServer, redis_url: str
) -> None:
    redis: Redis[bytes] = Redis.from_url(redis_url)
    queue = Queue("high", connection=redis)
    queue.empty()
    broadcast_id = _broadcast(worker_env, 2)
    spec = job("send_bulk_notifications")
    enqueued = queue.enqueue(spec.function, broadcast_id, job_timeout=spec.timeout)
    assert enqueued.timeout == 60
    SimpleWorker([queue], connection=redis).work(burst=True)
    assert len(ntfy_server.wait_for(2)) == 2
    assert [status for status, _, _ in _runs(worker_env, "send_bulk_notifications")] == [
        "succeeded"
    ]
    redis.close()
