"""Actions: scan and fetch now, and the scheduler's jobs (administrators).

Limits from the architecture's table: scan 1/min, fetch 5/min, scheduler 2/min per caller,
on top of the caller's budget."""

from __future__ import annotations

import re

from flask import current_app

from cryptolens.domain.api_scopes import Scope
from cryptolens.domain.errors import ConflictError, NotFoundError
from cryptolens.domain.jobs import JOBS
from cryptolens.extensions import db
from cryptolens.runtime import app_redis, app_settings
from cryptolens.services.ops.background import Background
from cryptolens.services.ops.job_runs import JobRunView, recent_runs
from cryptolens.services.ops.on_demand import (
    QueueWork,
    queue_fetches,
    queue_scans,
    queue_scheduled,
    watched_targets,
)
from cryptolens.web.api.v1 import bp
from cryptolens.web.api.v1.answers import Answer, answer
from cryptolens.web.api.v1.models import JobsEnvelope, QueuedEnvelope
from cryptolens.web.api.v1.queries import NoQuery, SymbolsBody
from cryptolens.web.api.v1.spec import endpoint

SCAN_LIMIT = ("1/minute", "scan")
FETCH_LIMIT = ("5/minute", "fetch")
SCHEDULER_LIMIT = ("2/minute", "scheduler")
_JOB_NAME = re.compile(r"[a-z_]{1,40}")


def _runner() -> str:
    return "rq" if app_redis(current_app) is not None else "thread"


def _queued(job: str, body: SymbolsBody, queue: QueueWork) -> Answer:
    settings = app_settings(current_app)
    targets = watched_targets(db.session(), exchange=settings.exchange_id, symbols=body.symbols)
    db.session.rollback()  # release the read before work starts elsewhere
    queue(Background(app_redis(current_app)), db.engine, settings, targets)
    data = {"job": job, "symbols": [t.symbol for t in targets], "runner": _runner()}
    return answer(QueuedEnvelope, data, status=202)


@bp.post("/scan")
@endpoint(
    Scope.WRITE_SCAN,
    resp=QueuedEnvelope,
    tag="actions",
    json=SymbolsBody,
    limit=SCAN_LIMIT,
    status=202,
)
def scan(json: SymbolsBody) -> Answer:
    """Scan the named symbols now (every watched one when none is named): fetch, detect,
    advance zones and signals. Limited to 1 a minute."""
    return _queued("scan", json, queue_scans)


@bp.post("/fetch")
@endpoint(
    Scope.WRITE_SCAN,
    resp=QueuedEnvelope,
    tag="actions",
    json=SymbolsBody,
    limit=FETCH_LIMIT,
    status=202,
)
def fetch(json: SymbolsBody) -> Answer:
    """Fetch the newly closed candles of the named symbols now (no scan). 5 a minute."""
    return _queued("fetch", json, queue_fetches)


@bp.get("/scheduler/jobs")
@endpoint(
    Scope.ADMIN_SCHEDULER,
    resp=JobsEnvelope,
    tag="scheduler",
    query=NoQuery,
    limit=SCHEDULER_LIMIT,
)
def scheduler_jobs() -> Answer:
    """The registered jobs with their schedule and last run (administrators)."""
    runs = recent_runs(db.engine, name=None, limit=200)
    last: dict[str, JobRunView] = {}
    for run in runs:  # newest first
        last.setdefault(run.name, run)
    data = [
        {
            "name": spec.name,
            "queue": spec.queue.value,
            "timeout": spec.timeout,
            "every": spec.every,
            "summary": spec.summary,
            "last_run": _run(last.get(spec.name)),
        }
        for spec in JOBS
    ]
    return answer(JobsEnvelope, data)


def _run(run: JobRunView | None) -> dict[str, object] | None:
    if run is None:
        return None
    return {"id": run.id, "status": run.status, "target": run.target, "error": run.error}


@bp.post("/scheduler/jobs/<name>/run")
@endpoint(
    Scope.ADMIN_SCHEDULER,
    resp=QueuedEnvelope,
    tag="scheduler",
    query=NoQuery,
    limit=SCHEDULER_LIMIT,
    status=202,
)
def run_job(name: str) -> Answer:
    """Run a scheduled job now on a worker (administrators; needs REDIS_URL)."""
    if not _JOB_NAME.fullmatch(name):
        raise NotFoundError("there is no such job")
    redis = app_redis(current_app)
    if redis is None:
        raise ConflictError(
            "Running a job needs the worker queue (REDIS_URL); use `cryptolens jobs run NAME`."
        )
    queue_scheduled(redis, name)
    return answer(QueuedEnvelope, {"job": name, "symbols": [], "runner": "rq"}, status=202)
