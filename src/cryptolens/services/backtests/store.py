"""Backtest runs as stored rows: created queued, run by a job that writes its progress as it
goes, then done (metrics, trades, equity curve) or failed (a message a user can read).

A run's ``kind`` is ``single``, ``sweep`` (combinations ranked; ``metrics`` holds the ranking
and the best combination's metrics, no trades or curve) or ``walk_forward`` (``metrics``
holds the splits, their warnings and the stitched out-of-sample metrics); a sweep's request
is checked (``sweeps.check_sweep``) before it is stored.

Who may see a run: its owner and admins, and any signed-in user holding its share link
while the owner shares it. Anyone else gets NotFoundError, as if it did not exist.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from cryptolens.backtest.report import (
    bar_equity,
    chart_points,
    metrics_dict,
    report_metrics,
    trade_dict,
)
from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.backtests import BacktestRun
from cryptolens.domain.errors import ConflictError, CryptoLensError, NotFoundError
from cryptolens.domain.jobs import job
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.logs import current_request_id
from cryptolens.services.backtests.run import (
    BacktestRequest,
    Progress,
    check_stored,
    run_stored_backtest,
)
from cryptolens.services.backtests.sweeps import (
    SweepPlan,
    check_sweep,
    run_stored_sweep,
    sweep_payload,
)
from cryptolens.services.ops.background import Background
from cryptolens.services.ops.error_tracking import record_job_error
from cryptolens.version import __version__

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Viewer(Protocol):
    """Who asks to see a run (``web.principal.Principal`` is one)."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def is_admin(self) -> bool: ...


def create_run(
    session: Session,
    *,
    user_id: int | None,
    request: BacktestRequest,
    plan: SweepPlan | None = None,
) -> BacktestRun:
    """A queued run of ``request``, a sweep when ``plan`` is given (flushed: it has its id)."""
    stored: dict[str, Any] = {"params": dict(request.params)}
    if plan is not None:
        stored["sweep"] = plan.as_json()
    row = BacktestRun(
        user_id=user_id,
        kind="single" if plan is None else plan.kind,
        status=QUEUED,
        symbol=request.symbol,
        since=request.since,
        until=request.until,
        params=json.dumps(stored, sort_keys=True),
        code_version=__version__,
        progress=0.0,
    )
    session.add(row)
    session.flush()
    return row


#: Runs one user may have queued or running at once.
MAX_ACTIVE_RUNS = 2
RUN_JOB = job("run_backtest")


def queue_run(
    engine: Engine,
    settings: Settings,
    background: Background,
    *,
    user_id: int,
    request: BacktestRequest,
    sweep: Mapping[str, object] | None = None,
) -> int:
    """Store a run of ``request`` (a sweep of it when ``sweep`` is given) for ``user_id``
    and hand it to a worker (or a thread without Redis); its id. Refused before anything is
    stored: ValidationError for a sweep ``check_sweep`` refuses, NotFoundError for a symbol
    not watched, ValidationError for a range without stored candles (``check_stored``),
    ConflictError while the user already has ``MAX_ACTIVE_RUNS`` runs queued or running."""
    plan = None if sweep is None else check_sweep(settings, request, sweep)
    with Session(engine) as session, session.begin():
        check_stored(session, settings, request)
        active = session.scalar(
            select(func.count())
            .select_from(BacktestRun)
            .where(BacktestRun.user_id == user_id, BacktestRun.status.in_((QUEUED, RUNNING)))
        )
        if (active or 0) >= MAX_ACTIVE_RUNS:
            raise ConflictError(
                f"You have {active} backtests queued or running; start another when one ends."
            )
        run_id = create_run(session, user_id=user_id, request=request, plan=plan).id
    background.submit(RUN_JOB, run_id, inline=partial(execute_run, engine, settings, run_id))
    return run_id


def stored_request(row: BacktestRun) -> BacktestRequest:
    """The request a stored run was made of (checked when it was created)."""
    params = json.loads(row.params).get("params", {})
    return BacktestRequest(row.symbol, row.since, row.until, params)


def stored_sweep(settings: Settings, row: BacktestRun) -> SweepPlan | None:
    """The sweep a stored run was made of, checked again (None for a single run)."""
    sweep = json.loads(row.params).get("sweep")
    if row.kind == "single" or sweep is None:
        return None
    return check_sweep(settings, stored_request(row), sweep)


def write_progress(engine: Engine, run_id: int, fraction: float) -> None:
    """Record how far the run is, in its own short transaction (pages poll it)."""
    with Session(engine) as session:
        session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id)
            .values(progress=max(0.0, min(1.0, fraction)))
        )
        session.commit()


def execute_run(
    engine: Engine,
    settings: Settings,
    run_id: int,
    *,
    progress: Progress | None = None,
) -> str:
    """Run the stored run ``run_id`` and store its results; returns its final status. A
    request the data cannot answer (no candles, symbol gone) fails with its message; an
    unexpected error fails with a generic one (the details go to the log) and is raised."""
    with Session(engine) as session:
        row = session.get(BacktestRun, run_id)
        if row is None:
            raise NotFoundError(f"No backtest run with id {run_id}.")
        if row.status in (DONE, FAILED):
            return row.status
        row.status, row.started_at = RUNNING, utcnow()
        request = stored_request(row)
        refused: str | None = None
        try:
            plan = stored_sweep(settings, row)
        except CryptoLensError as error:
            plan, refused = None, str(error)
        session.commit()
    if refused is not None:
        _finish(engine, run_id, status=FAILED, error=refused)
        return FAILED

    def report(fraction: float, stage: str) -> None:
        write_progress(engine, run_id, fraction)
        if progress is not None:
            progress(fraction, stage)

    try:
        if plan is None:
            values = _single_results(engine, settings, request, report)
        else:
            values = _sweep_results(engine, settings, request, plan, report)
    except CryptoLensError as error:
        _finish(engine, run_id, status=FAILED, error=str(error))
        return FAILED
    except Exception as error:
        log.exception("backtest run %s failed", run_id)
        _finish(engine, run_id, status=FAILED, error="the backtest failed unexpectedly")
        record_job_error(
            engine,
            error,
            settings=settings,
            context={"job": "backtest", "run_id": run_id, "request_id": current_request_id()},
        )
        raise
    _finish(engine, run_id, status=DONE, **values)
    return DONE


def _single_results(
    engine: Engine, settings: Settings, request: BacktestRequest, report: Progress
) -> dict[str, str]:
    result = run_stored_backtest(engine, settings, request, progress=report)
    bar_ms = timeframe_ms(settings.base_timeframe)
    base = result.replays[request.symbol].base
    curve = bar_equity(result, request.symbol, base, bar_ms)
    metrics = report_metrics(result, curve, bar_ms)
    return {
        "metrics": json.dumps(metrics_dict(metrics) | {"skipped": result.skipped}),
        "trades": json.dumps([trade_dict(t) for t in result.trades]),
        "equity": json.dumps(chart_points(curve)),
    }


#: Progress of a sweep is written when it moved by this much (and at the end).
PROGRESS_STEP = 0.01


def _sweep_results(
    engine: Engine,
    settings: Settings,
    request: BacktestRequest,
    plan: SweepPlan,
    report: Progress,
) -> dict[str, str]:
    """The sweep or walk-forward run, its progress reported as backtests done of all
    (every ``PROGRESS_STEP`` of the way, so a thousand combinations are not a thousand
    writes); only the metrics column is written."""
    report(0.0, f"0/{plan.backtests} backtests")
    written = [0.0]

    def counted(done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if fraction - written[0] >= PROGRESS_STEP or done == total:
            written[0] = fraction
            report(fraction, f"{done}/{total} backtests")

    found = run_stored_sweep(
        engine, settings, request, plan.spec, walk_forward=plan.walk_forward, progress=counted
    )
    return {"metrics": json.dumps(sweep_payload(found, plan, request.params))}


def _finish(engine: Engine, run_id: int, *, status: str, **values: Any) -> None:
    with Session(engine) as session:
        session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id)
            .values(status=status, finished_at=utcnow(), progress=1.0, **values)
        )
        session.commit()


def visible_run(
    session: Session, *, viewer: Viewer, run_id: int, token: str | None = None
) -> BacktestRun:
    """The run, if ``viewer`` owns it, is an admin, or holds its current share ``token``."""
    row = session.get(BacktestRun, run_id)
    if row is None:
        raise NotFoundError(f"No backtest run with id {run_id}.")
    if viewer.is_admin or (row.user_id is not None and row.user_id == viewer.user_id):
        return row
    if token and row.share_token and secrets.compare_digest(token, row.share_token):
        return row
    raise NotFoundError(f"No backtest run with id {run_id}.")


def owned_run(session: Session, *, viewer: Viewer, run_id: int) -> BacktestRun:
    """The run, if ``viewer`` owns it (sharing and deleting are the owner's)."""
    row = session.get(BacktestRun, run_id)
    if row is None or row.user_id is None or row.user_id != viewer.user_id:
        raise NotFoundError(f"No backtest run with id {run_id}.")
    return row


def share_run(session: Session, *, viewer: Viewer, run_id: int) -> str:
    """Share the run by link: its token (a new one if it had none)."""
    row = owned_run(session, viewer=viewer, run_id=run_id)
    if row.share_token is None:
        row.share_token = secrets.token_urlsafe(24)
    return row.share_token


def unshare_run(session: Session, *, viewer: Viewer, run_id: int) -> None:
    """Stop sharing: the old link no longer opens the run."""
    owned_run(session, viewer=viewer, run_id=run_id).share_token = None


def list_runs(session: Session, *, user_id: int, limit: int = 50) -> Sequence[BacktestRun]:
    """The user's runs, newest first."""
    query = (
        select(BacktestRun)
        .where(BacktestRun.user_id == user_id)
        .order_by(BacktestRun.created_at.desc(), BacktestRun.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


@dataclass(frozen=True, slots=True)
class RunView:
    """A stored run decoded for a page or the API."""

    id: int
    status: str
    kind: str
    symbol: str
    since: datetime
    until: datetime
    params: dict[str, Any]
    code_version: str
    progress: float
    error: str | None
    #: A single run's metrics; a sweep's best combination's; a walk-forward's stitched
    #: out-of-sample metrics (None when its windows overlap).
    metrics: dict[str, Any] | None
    trades: list[dict[str, Any]] | None
    equity: dict[str, list[Any]] | None
    shared: bool
    created_at: datetime
    finished_at: datetime | None
    #: The sweep asked for (``SweepPlan.as_json``), None for a single run.
    sweep: dict[str, Any] | None = None
    #: A done sweep's ``sweeps.sweep_payload`` without the full metrics: ``metric`` and
    #: ``rows``, or ``metric``, ``splits`` and ``warnings``.
    outcome: dict[str, Any] | None = None

    @property
    def backtests_done(self) -> tuple[int, int] | None:
        """A sweep's backtests done and in all (None for a single run)."""
        if self.sweep is None:
            return None
        total = int(self.sweep.get("backtests", 0))
        return round(self.progress * total), total


def run_view(row: BacktestRun) -> RunView:
    def decoded(text: str | None) -> Any:
        return None if text is None else json.loads(text)

    stored = json.loads(row.params)
    metrics, outcome = decoded(row.metrics), None
    if row.kind != "single" and metrics is not None:
        outcome = {k: v for k, v in metrics.items() if k not in ("best", "stitched")}
        metrics = metrics.get("best", metrics.get("stitched"))
    return RunView(
        id=row.id,
        status=row.status,
        kind=row.kind,
        symbol=row.symbol,
        since=row.since,
        until=row.until,
        params=stored.get("params", {}),
        code_version=row.code_version,
        progress=row.progress,
        error=row.error,
        metrics=metrics,
        trades=decoded(row.trades),
        equity=decoded(row.equity),
        shared=row.share_token is not None,
        created_at=row.created_at,
        finished_at=row.finished_at,
        sweep=stored.get("sweep") if row.kind != "single" else None,
        outcome=outcome,
    )


TRADE_COLUMNS = (
    "symbol",
    "direction",
    "signal_at",
    "entry_time",
    "entry_price",
    "stop",
    "exit_time",
    "exit_price",
    "size",
    "fees",
    "pnl",
    "r_multiple",
    "exit_reason",
    "ambiguous",
)


def trades_csv(view: RunView) -> str:
    """The run's trades as CSV, one row per trade (the columns of ``TRADE_COLUMNS``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    for trade in view.trades or []:
        writer.writerow([trade[c] for c in TRADE_COLUMNS])
    return out.getvalue()
