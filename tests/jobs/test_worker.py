"""The RQ worker runs a job under the id of the request that enqueued it, and counts what a
job raises in error tracking once (with the job's id and that request id)."""

from __future__ import annotations

import logging
from pathlib import Path

from redis import Redis
from rq import Queue
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.db.errors import ErrorGroup
from cryptolens.domain.jobs import JobSpec, QueueName
from cryptolens.jobs.worker import CryptoLensWorker, error_handler
from cryptolens.logs import current_request_id, request_id_bound
from cryptolens.services.ops.background import Background
from tests.builders.db import clear_tables
from tests.builders.settings import make_settings

log = logging.getLogger("cryptolens.test_job")


def speak() -> str | None:
    log.info("job speaking")
    return current_request_id()


def explode() -> None:
    raise RuntimeError("job exploded")


def _spec(function: str) -> JobSpec:
    return JobSpec(
        name=function, function=f"{__name__}.{function}", queue=QueueName.LOW, timeout=30
    )


def _queue(redis_url: str) -> tuple[Redis[bytes], Queue]:
    redis: Redis[bytes] = Redis.from_url(redis_url)
    queue = Queue(QueueName.LOW.value, connection=redis)
    queue.empty()
    return redis, queue


def test_a_job_runs_under_the_request_id_that_enqueued_it(redis_url: str) -> None:
    redis, queue = _queue(redis_url)
    with request_id_bound("req-job"):
        assert Background(redis).enqueue(_spec("speak"))
    [job] = queue.get_jobs()
    CryptoLensWorker([queue], connection=redis).work(burst=True)
    assert job.return_value() == "req-job"


def test_a_failing_job_is_tracked_once_with_its_job_and_request(
    redis_url: str, migrated_engine: Engine, tmp_path: Path
) -> None:
    clear_tables(migrated_engine)
    settings = make_settings(
        database_url=migrated_engine.url.render_as_string(hide_password=False),
        instance_dir=tmp_path,
    )
    redis, queue = _queue(redis_url)
    with request_id_bound("req-fail"):
        assert Background(redis).enqueue(_spec("explode"))
    [job] = queue.get_jobs()
    worker = CryptoLensWorker(
        [queue], connection=redis, exception_handlers=[error_handler(settings)]
    )
    worker.work(burst=True)
    with Session(migrated_engine) as session:
        [group] = session.scalars(select(ErrorGroup)).all()
    clear_tables(migrated_engine)
    assert (group.exc_type, group.function, group.count) == ("RuntimeError", "explode", 1)
    assert group.context is not None
    assert group.context["job_id"] == job.id
    assert group.context["request_id"] == "req-fail"
