"""Durable records of background work: every run gets a row with its times, counts, error."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from cryptolens.clock import utcnow
from cryptolens.db.models import JobRun
from cryptolens.domain.enums import JobStatus
from cryptolens.infra import metrics
from cryptolens.logs import current_request_id
from cryptolens.services.ops.error_tracking import record_job_error

log = logging.getLogger(__name__)


@dataclass
class RunRecord:
    """What a job reports about its run; set ``status`` to SKIPPED to say it did nothing."""

    id: int
    name: str
    target: str | None
    status: JobStatus = JobStatus.SUCCEEDED
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@contextmanager
def recorded_run(engine: Engine, name: str, *, target: str | None = None) -> Iterator[RunRecord]:
    """Record a run: a row when it starts, finished with status, counts and error when it
    ends. An exception marks the run failed and propagates."""
    with engine.begin() as connection:
        result = connection.execute(
            insert(JobRun).values(
                name=name, target=target, started_at=utcnow(), status=JobStatus.RUNNING.value
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        run_id = int(key[0])
    record = RunRecord(run_id, name, target)
    started = time.perf_counter()
    try:
        yield record
    except BaseException as exc:
        record.status = JobStatus.FAILED
        record.error = f"{type(exc).__name__}: {exc}"
        record_job_error(
            engine,
            exc,
            context={
                "job": name,
                "target": target,
                "run_id": run_id,
                "request_id": current_request_id(),
            },
        )
        raise
    finally:
        metrics.observe_job(name, record.status.value, time.perf_counter() - started)
        with engine.begin() as connection:
            connection.execute(
                update(JobRun)
                .where(JobRun.id == run_id)
                .values(
                    finished_at=utcnow(),
                    status=record.status.value,
                    counts=record.counts or None,
                    error=record.error,
                )
            )


@dataclass(frozen=True, slots=True)
class JobRunView:
    id: int
    name: str
    target: str | None
    status: str
    counts: dict[str, Any] | None
    error: str | None


def recent_runs(engine: Engine, *, name: str | None = None, limit: int = 20) -> list[JobRunView]:
    query = select(
        JobRun.id, JobRun.name, JobRun.target, JobRun.status, JobRun.counts, JobRun.error
    ).order_by(JobRun.id.desc())
    if name is not None:
        query = query.where(JobRun.name == name)
    with engine.connect() as connection:
        rows = connection.execute(query.limit(limit)).all()
    return [JobRunView(*row) for row in rows]


def delete_old_runs(engine: Engine, *, older_than_days: int) -> int:
    """Drop finished run records older than the retention period."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    with engine.begin() as connection:
        result = connection.execute(
            delete(JobRun).where(JobRun.started_at < cutoff, JobRun.status != JobStatus.RUNNING)
        )
    return int(result.rowcount)
