"""API v1 backtests with a key: a run is accepted (202), runs in a thread (no Redis) and is
read back with the very trades the store holds; bad input is refused by name before any run
is stored; plans without backtests get a 403; another user's run is a 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db.backtests import BacktestRun
from cryptolens.detect import Candles
from cryptolens.domain.api_scopes import Scope
from cryptolens.extensions import db
from cryptolens.market.simulator.demo import demo_datasets
from cryptolens.runtime import app_settings
from cryptolens.services.backtests.run import check_request
from cryptolens.services.backtests.store import create_run, execute_run, run_view
from cryptolens.services.ops.background import wait_for_background
from tests.builders.api import call, make_key
from tests.builders.db import store
from tests.web.accounts_helpers import Person, csrf_token, make_user, sign_in
from tests.web.seeding import add_symbol

PUBLIC = "https://lens.example.com"
DAYS = 90


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The API's settings with hourly base candles (as the backtest service tests use)."""
    changes = {"public_url": PUBLIC, "base_timeframe": "1h", "timeframes": ("1h", "2h", "4h", "1d")}
    return settings.model_copy(update=changes)


@pytest.fixture
def hours(app: Flask) -> Candles:
    """The first ``DAYS`` days of real BTC/USD hours, stored for BTC/USDT."""
    ds = demo_datasets()["BTC/USDT"]
    candles = Candles(ds.open_time, ds.open, ds.high, ds.low, ds.close, ds.volume)[: DAYS * 24]
    with app.app_context():
        symbol_id = add_symbol(db.session, "BTC/USDT")
        db.session.commit()
        store(db.engine, app_settings(app), symbol_id, candles)
    return candles


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def _body(hours: Candles, **change: Any) -> dict[str, Any]:
    body = {
        "symbol": "BTC/USDT",
        "since": _iso(int(hours.open_time[0])),
        "until": _iso(int(hours.open_time[-1])),
        "params": {"min_confluence": 2},
    }
    return body | change


def _call(app: Flask, method: str, path: str, key: str | None, **kwargs: Any) -> TestResponse:
    return call(app.test_client(), method, f"/api/v1{path}", key, **kwargs)


def _runs(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(BacktestRun)) or 0


def _queued_runs(app: Flask, user_id: int, n: int) -> list[int]:
    """``n`` queued runs of ``user_id`` stored directly (no worker picks them up)."""
    request = check_request(
        symbol="BTC/USDT",
        since=datetime(2024, 1, 1, tzinfo=UTC),
        until=datetime(2024, 2, 1, tzinfo=UTC),
        params={},
    )
    with app.app_context():
        ids = [create_run(db.session(), user_id=user_id, request=request).id for _ in range(n)]
        db.session.commit()
    return ids


def test_a_run_is_accepted_then_read_back_done_with_the_stored_trades(
    app: Flask, premium_user: Person, hours: Candles
) -> None:
    key = make_key(app, premium_user.id)
    made = _call(app, "POST", "/backtests", key, json=_body(hours))
    assert made.status_code == 202, made.json
    queued = made.json["data"]
    run_id = queued["id"]
    assert queued["status"] in {"queued", "running", "done"}
    assert queued["links"]["self"] == f"{PUBLIC}/api/v1/backtests/{run_id}"
    assert queued["request"]["params"] == {"min_confluence": 2}
    wait_for_background()
    read = _call(app, "GET", f"/backtests/{run_id}", key)
    assert read.status_code == 200, read.json
    data = read.json["data"]
    assert (data["status"], data["progress"], data["error"]) == ("done", 1.0, None)
    assert data["request"]["symbol"] == "BTC/USDT"
    assert data["code_version"]
    with app.app_context():
        stored = run_view(db.session.get(BacktestRun, run_id))  # type: ignore[arg-type]
    assert stored.trades
    assert len(data["trades"]) == len(stored.trades) == data["metrics"]["trades"]
    for answered, kept in zip(data["trades"], stored.trades, strict=True):
        assert answered == {k: v for k, v in kept.items() if k in answered}
        assert {"entry_time", "entry_price", "exit_time", "exit_price", "size", "fees"} <= set(
            answered
        )
        assert {"r_multiple", "exit_reason"} <= set(answered)
    assert data["equity"] == stored.equity
    listed = _call(app, "GET", "/backtests", key)
    assert [r["id"] for r in listed.json["data"]] == [run_id]
    assert "trades" not in listed.json["data"][0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"params": {"bogus": 1}}, "params.bogus: unknown parameter"),
        ({"params": {"min_confluence": 0}}, "params.min_confluence"),
        ({"params": {"break_even": "maybe"}}, "params.break_even"),
        ({"since": "1999-12-31"}, "since: Value error, must be between 2000 and 2100"),
        ({"until": "2017-01-01"}, "until must be after since"),
        ({"since": "2012-01-01"}, "the Premium plan allows backtests of up to 1,096 days"),
        ({"since": "2030-01-01", "until": "2030-02-01"}, "no stored 1h candles for BTC/USDT"),
        ({"extra": True}, "extra: unknown parameter"),
    ],
)
def test_bad_input_is_a_400_naming_it_and_stores_no_run(
    app: Flask, premium_user: Person, hours: Candles, change: dict[str, Any], message: str
) -> None:
    key = make_key(app, premium_user.id)
    refused = _call(app, "POST", "/backtests", key, json=_body(hours, **change))
    assert refused.status_code == 400
    assert refused.json["success"] is False
    assert message in refused.json["error"]
    assert _runs(app) == 0


def test_a_symbol_not_watched_is_a_404_before_any_run(
    app: Flask, premium_user: Person, hours: Candles
) -> None:
    key = make_key(app, premium_user.id)
    refused = _call(app, "POST", "/backtests", key, json=_body(hours, symbol="DOGE/USDT"))
    assert refused.status_code == 404
    assert "DOGE/USDT" in refused.json["error"]
    assert _runs(app) == 0


def test_a_third_active_run_is_a_409(app: Flask, premium_user: Person, hours: Candles) -> None:
    _queued_runs(app, premium_user.id, 2)
    key = make_key(app, premium_user.id)
    refused = _call(app, "POST", "/backtests", key, json=_body(hours))
    assert refused.status_code == 409
    assert "2 backtests queued or running" in refused.json["error"]
    assert _runs(app) == 2


def test_each_endpoint_needs_its_scope(app: Flask, premium_user: Person, hours: Candles) -> None:
    reader = make_key(app, premium_user.id, [Scope.READ_BACKTEST])
    writer = make_key(app, premium_user.id, [Scope.WRITE_BACKTEST])
    refused = _call(app, "POST", "/backtests", reader, json=_body(hours))
    assert refused.status_code == 403
    assert "write:backtest" in refused.json["error"]
    run_id = _queued_runs(app, premium_user.id, 1)[0]
    for path in ("/backtests", f"/backtests/{run_id}"):
        denied = _call(app, "GET", path, writer)
        assert denied.status_code == 403
        assert "read:backtest" in denied.json["error"]
        assert _call(app, "GET", path, reader).status_code == 200


@pytest.mark.parametrize("plan", ["pro", "free"])
def test_plans_without_backtests_get_a_403_naming_premium(
    app: Flask, hours: Candles, plan: str
) -> None:
    """Such plans hold no keys; their signed-in browser is refused the same way."""
    client = app.test_client()
    assert sign_in(client, make_user(app, f"{plan}@example.com", plan=plan)).status_code == 302
    headers = {"X-CSRFToken": csrf_token(client)}
    for method, path, body in (
        ("POST", "/api/v1/backtests", _body(hours)),
        ("GET", "/api/v1/backtests", None),
        ("GET", "/api/v1/backtests/1", None),
    ):
        refused = client.open(path, method=method, json=body, headers=headers)
        assert refused.status_code == 403, (method, path)
        assert "needs the Premium plan" in refused.json["error"]
    assert _runs(app) == 0


def test_another_users_run_is_a_404(app: Flask, premium_user: Person, hours: Candles) -> None:
    other = make_user(app, "other@example.com", plan="premium")
    theirs = _queued_runs(app, other.id, 1)[0]
    key = make_key(app, premium_user.id)
    hidden = _call(app, "GET", f"/backtests/{theirs}", key)
    assert hidden.status_code == 404
    assert hidden.json["error"] == f"No backtest run with id {theirs}."
    assert _call(app, "GET", "/backtests", key).json["data"] == []
    assert _call(app, "GET", f"/backtests/{theirs}", make_key(app, other.id)).status_code == 200


def test_a_form_body_is_refused(app: Flask, premium_user: Person, hours: Candles) -> None:
    key = make_key(app, premium_user.id)
    refused = _call(app, "POST", "/backtests", key, data=_body(hours, params="x"))
    assert refused.status_code == 400
    assert "send JSON" in refused.json["error"]


def test_with_redis_a_run_waits_on_queue_low_for_a_worker(
    app: Flask, premium_user: Person, hours: Candles, redis_url: str
) -> None:
    Redis.from_url(redis_url).flushdb()  # this suite's own database
    settings = app_settings(app).model_copy(update={"redis_url": redis_url})
    queued_app = create_app(settings)
    key = make_key(queued_app, premium_user.id)
    client = queued_app.test_client()
    made = call(client, "POST", "/api/v1/backtests", key, json=_body(hours))
    assert made.status_code == 202, made.json
    run_id = made.json["data"]["id"]
    assert (made.json["data"]["status"], made.json["data"]["progress"]) == ("queued", 0.0)
    jobs = Queue("low", connection=Redis.from_url(redis_url)).jobs
    assert [(j.func_name, j.args) for j in jobs] == [
        ("cryptolens.jobs.backtests.run_backtest_job", (run_id,))
    ]
    with queued_app.app_context():
        assert execute_run(db.engine, settings, run_id) == "done"  # as the worker would
    read = call(client, "GET", f"/api/v1/backtests/{run_id}", key)
    assert read.json["data"]["status"] == "done"
    with queued_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_dates_without_a_time_or_offset_are_utc(
    app: Flask, premium_user: Person, hours: Candles
) -> None:
    first = datetime.fromtimestamp(int(hours.open_time[0]) / 1000, tz=UTC)
    since = first.date() + timedelta(days=1)
    body = _body(hours, since=since.isoformat(), until=f"{since + timedelta(days=9)}T00:00:00")
    made = _call(app, "POST", "/backtests", make_key(app, premium_user.id), json=body)
    assert made.status_code == 202, made.json
    wait_for_background()
    assert made.json["data"]["request"]["since"].startswith(f"{since.isoformat()}T00:00:00")


def test_a_sweep_is_accepted_then_read_back_with_its_ranking(
    app: Flask, premium_user: Person, hours: Candles
) -> None:
    key = make_key(app, premium_user.id)
    sweep = {"space": {"min_confluence": [1, 2], "stop_atr": "0.5:1:0.5"}, "metric": "sortino"}
    made = _call(app, "POST", "/backtests", key, json=_body(hours, params={}, sweep=sweep))
    assert made.status_code == 202, made.json
    queued = made.json["data"]
    assert queued["kind"] == "sweep"
    stored_sweep = queued["request"]["sweep"]
    assert stored_sweep["space"] == ["min_confluence=1,2", "stop_atr=0.5:1:0.5"]
    assert (stored_sweep["metric"], stored_sweep["backtests"]) == ("sortino", 4)
    wait_for_background()
    data = _call(app, "GET", f"/backtests/{queued['id']}", key).json["data"]
    assert (data["status"], data["kind"], data["trades"], data["equity"]) == (
        "done",
        "sweep",
        None,
        None,
    )
    ranking = data["ranking"]
    assert [r["rank"] for r in ranking] == [1, 2, 3, 4]
    assert ranking[0]["single"] == ranking[0]["params"]
    assert data["metrics"]["sortino"] == ranking[0]["score"]
    assert data["metrics"]["trades"] == ranking[0]["metrics"]["trades"]
    assert data["splits"] is None


def test_a_walk_forward_is_read_back_with_its_splits(
    app: Flask, premium_user: Person, hours: Candles
) -> None:
    key = make_key(app, premium_user.id)
    sweep = {
        "space": ["min_confluence=1,2"],
        "walk_forward": {"in_days": 30, "out_days": 20},
    }
    made = _call(app, "POST", "/backtests", key, json=_body(hours, sweep=sweep))
    assert made.status_code == 202, made.json
    assert made.json["data"]["kind"] == "walk_forward"
    wait_for_background()
    data = _call(app, "GET", f"/backtests/{made.json['data']['id']}", key).json["data"]
    assert data["status"] == "done", data["error"]
    assert [s["index"] for s in data["splits"]] == [0, 1]
    assert data["splits"][0]["in_end"] == data["splits"][0]["out_start"]
    assert isinstance(data["warnings"], list)
    assert data["ranking"] is None
    assert data["metrics"]["trades"] == sum(s["out_of_sample"]["trades"] for s in data["splits"])


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"space": {"bogus": [1, 2]}}, "unknown sweep parameter bogus"),
        ({"space": ["min_confluence=1:8:1", "stop_atr=0.1:10:0.05"]}, "exceed the limit"),
        ({"space": {"min_confluence": [1]}, "metric": "luck"}, "sweep.metric"),
        ({"space": {"min_confluence": [1]}, "mode": "random"}, "needs the number"),
        (
            {"space": {"min_confluence": [1]}, "walk_forward": {"in_days": 0, "out_days": 5}},
            "sweep.walk_forward.in_days",
        ),
        (
            {"space": {"min_confluence": [1]}, "walk_forward": {"in_days": 80, "out_days": 30}},
            "too short",
        ),
        ({"space": {}}, "at least one"),
    ],
)
def test_a_bad_sweep_is_a_400_naming_it_and_stores_no_run(
    app: Flask, premium_user: Person, hours: Candles, sweep: dict[str, Any], message: str
) -> None:
    key = make_key(app, premium_user.id)
    refused = _call(app, "POST", "/backtests", key, json=_body(hours, sweep=sweep))
    assert refused.status_code == 400, refused.json
    assert message in refused.json["error"]
    assert _runs(app) == 0


def test_the_document_states_the_sweep_limits(app: Flask) -> None:
    schemas = app.test_client().get("/api/v1/openapi.json").json["components"]["schemas"]
    sweep = schemas["SweepBody"]["properties"]
    assert "1,000 combinations" in sweep["space"]["description"]
    assert "20,000" in sweep["walk_forward"]["description"]
    assert "sharpe" in str(sweep["metric"])
    assert {"ranking", "splits", "warnings"} <= set(schemas["BacktestRunOut"]["properties"])
