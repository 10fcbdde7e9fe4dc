"""Backtests of stored history: start one (202, run by a worker or a thread), read it while
it runs and once done (metrics, trades, equity curve), list one's own.

Premium (and admins) only: other plans get a 403 naming the plan. Everything a run could
be refused for is refused before it is queued: unknown parameters and values out of range,
a range longer than the plan allows (400 naming them), a symbol not watched (404), a range
without stored candles (400), a third run while two are active (409). A run the caller may
not see is a 404 as if it did not exist (share links are for pages, not the API)."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from cryptolens.backtest.params import Value
from cryptolens.domain.api_scopes import Scope
from cryptolens.domain.errors import ForbiddenError
from cryptolens.domain.plans import Capability
from cryptolens.extensions import db
from cryptolens.runtime import app_redis, app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.backtests.run import check_request
from cryptolens.services.backtests.store import (
    RunView,
    list_runs,
    queue_run,
    run_view,
    visible_run,
)
from cryptolens.services.ops.background import Background
from cryptolens.web.api.v1 import bp
from cryptolens.web.api.v1.answers import Answer, answer
from cryptolens.web.api.v1.backtest_schemas import (
    BacktestBody,
    BacktestEnvelope,
    BacktestQuery,
    BacktestQueuedEnvelope,
    BacktestsEnvelope,
)
from cryptolens.web.api.v1.queries import MAX_ID, NoQuery
from cryptolens.web.api.v1.spec import endpoint
from cryptolens.web.principal import Principal, current_principal

TAG = "backtests"


def _backtester() -> tuple[Principal, int]:
    """The caller and their user id, if their plan includes backtests (TierRequiredError)."""
    principal = current_principal()
    policy.require(principal, Capability.BACKTEST)
    if principal.user_id is None:  # a key or a session always has its user
        raise ForbiddenError("Backtests need an account.")
    return principal, principal.user_id


def _summary(view: RunView) -> dict[str, Any]:
    path = url_for("api_v1.get_backtest", run_id=view.id)
    return {
        "id": view.id,
        "kind": view.kind,
        "status": view.status,
        "progress": view.progress,
        "error": view.error,
        "request": {
            "symbol": view.symbol,
            "since": view.since,
            "until": view.until,
            "params": view.params,
            "sweep": view.sweep,
        },
        "created_at": view.created_at,
        "finished_at": view.finished_at,
        "links": {"self": app_settings(current_app).resolved_public_url + path},
    }


@bp.post("/backtests")
@endpoint(
    Scope.WRITE_BACKTEST,
    resp=BacktestQueuedEnvelope,
    tag=TAG,
    json=BacktestBody,
    status=202,
    errors=(409,),
)
def create_backtest(json: BacktestBody) -> Answer:
    """Start a backtest of a watched symbol's stored candles over ``[since, until)`` with
    the live signal rules, ``params`` overriding them; poll ``links.self`` until it is done.
    With ``sweep`` the run tries combinations of values and ranks them (or walks forward),
    checked before it is stored (400 naming what is wrong). At most two of your runs may be
    queued or running at once (409 otherwise)."""
    principal, user_id = _backtester()
    params: dict[str, Value] = json.params.model_dump(exclude_none=True)
    request = check_request(
        symbol=json.symbol,
        since=json.since,
        until=json.until,
        params=params,
        limits=policy.limits_for(principal),
    )
    background = Background(app_redis(current_app))
    settings = app_settings(current_app)
    sweep = None if json.sweep is None else json.sweep.model_dump()
    run_id = queue_run(
        db.engine, settings, background, user_id=user_id, request=request, sweep=sweep
    )
    db.session.rollback()  # a fresh snapshot: the run was committed by queue_run's session
    row = visible_run(db.session(), viewer=principal, run_id=run_id)
    return answer(BacktestQueuedEnvelope, _summary(run_view(row)), status=202)


@bp.get("/backtests")
@endpoint(Scope.READ_BACKTEST, resp=BacktestsEnvelope, tag=TAG, query=BacktestQuery)
def list_backtests(query: BacktestQuery) -> Answer:
    """Your runs, newest first, without their results (read one for them)."""
    _, user_id = _backtester()
    found = list_runs(db.session(), user_id=user_id, limit=query.limit)
    return answer(BacktestsEnvelope, [_summary(run_view(r)) for r in found], limit=query.limit)


@bp.get(f"/backtests/<int(max={MAX_ID}):run_id>")
@endpoint(Scope.READ_BACKTEST, resp=BacktestEnvelope, tag=TAG, query=NoQuery)
def get_backtest(run_id: int) -> Answer:
    """One run: its status and progress, the request it was made of and the code version
    that ran it, and once done its metrics, every trade and the equity curve; a sweep's
    ranking, a walk-forward's splits and warnings."""
    principal, _ = _backtester()
    view = run_view(visible_run(db.session(), viewer=principal, run_id=run_id))
    outcome = view.outcome or {}
    data = _summary(view) | {
        "code_version": view.code_version,
        "metrics": view.metrics,
        "trades": view.trades,
        "equity": view.equity,
        "ranking": outcome.get("rows"),
        "splits": outcome.get("splits"),
        "warnings": outcome.get("warnings"),
    }
    return answer(BacktestEnvelope, data)
