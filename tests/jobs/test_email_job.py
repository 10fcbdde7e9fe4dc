from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import Engine, select

from cryptolens import create_app
from cryptolens.db.accounts import OutboxEmail
from cryptolens.extensions import db
from tests.builders.db import clear_tables
from tests.builders.settings import TEST_SECRET, make_settings
from tests.web.accounts_helpers import PASSWORD, Mailbox, make_user, post_form


@pytest.fixture
def queued_app(
    redis_url: str, database_url: str, migrated_engine: Engine, tmp_path: Path
) -> Iterator[tuple[Flask, Queue]]:
    """An app with Redis, and its (empty) ``high`` queue."""
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    app = create_app(
        make_settings(database_url=database_url, instance_dir=tmp_path, redis_url=redis_url)
    )
    yield app, Queue("high", connection=redis)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    clear_tables(migrated_engine)
    redis.flushdb()


def _as_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, smtp_port: int
) -> None:
    """The worker builds its own settings from the environment, like any entry point."""
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "PUBLIC_URL": "https://lens.example.com",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
    }.items():
        monkeypatch.setenv(name, value)


def test_with_redis_an_email_is_an_rq_job_on_queue_high_that_is_safe_to_run_twice(
    queued_app: tuple[Flask, Queue],
    database_url: str,
    smtp_server: tuple[object, int],
    mailbox: Mailbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, queue = queued_app
    client = app.test_client()
    post_form(client, "/auth/register", {"email": "queued@example.com", "password": PASSWORD})

    assert queue.count == 1
    job = queue.jobs[0]
    assert job.func_name == "cryptolens.jobs.email.send_email_job"
    assert job.timeout == 60
    with app.app_context():
        outbox_id = db.session.scalars(select(OutboxEmail.id)).one()
    assert job.args == (outbox_id,)
    assert mailbox.messages == []  # nothing sent on the request path

    _as_worker(monkeypatch, tmp_path, database_url, smtp_server[1])
    assert job.perform() == "sent"
    assert job.perform() == "sent"  # a second run sends nothing more
    mailbox.wait_for("queued@example.com")
    assert len(mailbox.messages) == 1


def test_with_redis_a_reset_request_is_a_job_that_does_the_look_up_and_sends_the_link(
    queued_app: tuple[Flask, Queue],
    database_url: str,
    smtp_server: tuple[object, int],
    mailbox: Mailbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, queue = queued_app
    user = make_user(app, "queued-reset@example.com")
    post_form(app.test_client(), "/auth/forgot", {"email": "Queued-Reset@Example.com"})

    (job,) = queue.jobs
    assert job.func_name == "cryptolens.jobs.email.password_reset_job"
    assert job.args == (user.email,)
    with app.app_context():
        assert db.session.scalars(select(OutboxEmail.id)).all() == []  # nothing in-request

    _as_worker(monkeypatch, tmp_path, database_url, smtp_server[1])
    assert job.perform() is True
    body = mailbox.wait_for(user.email).get_body(preferencelist=("plain",))
    assert body is not None
    assert "https://lens.example.com/auth/reset/" in body.get_content()
