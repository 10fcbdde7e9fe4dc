"""Stored runs: a run executes into metrics, trades and an equity curve; failures keep a
message; only the owner, admins and holders of a live share link see a run."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.backtests import BacktestRun
from cryptolens.detect import Candles
from cryptolens.domain.errors import ConflictError, NotFoundError, ValidationError
from cryptolens.services.backtests.run import BacktestRequest, check_request
from cryptolens.services.backtests.store import (
    DONE,
    FAILED,
    MAX_ACTIVE_RUNS,
    TRADE_COLUMNS,
    create_run,
    execute_run,
    queue_run,
    run_view,
    share_run,
    trades_csv,
    unshare_run,
    visible_run,
)
from cryptolens.services.backtests.sweeps import MAIN_METRICS, check_sweep
from cryptolens.services.ops.background import Background, wait_for_background
from tests.builders.notifications import add_user


@dataclass(frozen=True)
class Viewer:
    user_id: int | None
    is_admin: bool = False


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _request(candles: Candles, **params: object) -> BacktestRequest:
    return check_request(
        symbol="BTC/USDT",
        since=_moment(int(candles.open_time[0])),
        until=_moment(int(candles.open_time[-1])),
        params=params,
    )


def _stored(engine: Engine, user_id: int | None, request: BacktestRequest) -> int:
    with Session(engine) as session, session.begin():
        return create_run(session, user_id=user_id, request=request).id


def test_a_run_executes_into_metrics_trades_and_an_equity_curve(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    owner = add_user(migrated_engine, "owner@example.com")
    run_id = _stored(migrated_engine, owner, _request(stored_btc, taker_fee_bps="5"))
    seen: list[float] = []
    status = execute_run(
        migrated_engine, scan_settings, run_id, progress=lambda f, _: seen.append(f)
    )
    assert status == DONE
    assert seen[-1] == 1.0
    with Session(migrated_engine) as session:
        row = session.get(BacktestRun, run_id)
        assert row is not None
        view = run_view(row)
    assert view.status == DONE
    assert view.progress == 1.0
    assert view.params == {"taker_fee_bps": 5.0}
    assert view.metrics is not None
    assert view.trades is not None
    assert view.metrics["trades"] == len(view.trades) > 0
    assert view.equity is not None
    assert view.equity["equity"][0] == view.metrics["initial_capital"]
    assert view.equity["equity"][-1] == pytest.approx(view.metrics["final_equity"])
    rows = list(csv.reader(io.StringIO(trades_csv(view))))
    assert tuple(rows[0]) == TRADE_COLUMNS
    assert len(rows) == len(view.trades) + 1
    # A finished run is left as it is.
    assert execute_run(migrated_engine, scan_settings, run_id) == DONE


def test_a_run_the_data_cannot_answer_fails_with_its_message(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    request = check_request(
        symbol="BTC/USDT",
        since=datetime(2030, 1, 1, tzinfo=UTC),
        until=datetime(2030, 1, 5, tzinfo=UTC),
        params={},
    )
    run_id = _stored(migrated_engine, None, request)
    assert execute_run(migrated_engine, scan_settings, run_id) == FAILED
    with Session(migrated_engine) as session:
        row = session.get(BacktestRun, run_id)
        assert row is not None
        assert row.status == FAILED
        assert row.error is not None
        assert "no stored 1h candles" in row.error


def test_only_the_owner_an_admin_or_a_live_share_link_see_a_run(
    migrated_engine: Engine, stored_btc: Candles
) -> None:
    owner, other = (add_user(migrated_engine, f"{n}@example.com") for n in ("o", "x"))
    run_id = _stored(migrated_engine, owner, _request(stored_btc))
    with Session(migrated_engine) as session, session.begin():
        assert visible_run(session, viewer=Viewer(owner), run_id=run_id).id == run_id
        assert visible_run(session, viewer=Viewer(other, is_admin=True), run_id=run_id)
        with pytest.raises(NotFoundError):
            visible_run(session, viewer=Viewer(other), run_id=run_id)
        with pytest.raises(NotFoundError):
            share_run(session, viewer=Viewer(other), run_id=run_id)
        token = share_run(session, viewer=Viewer(owner), run_id=run_id)
        assert share_run(session, viewer=Viewer(owner), run_id=run_id) == token
    with Session(migrated_engine) as session, session.begin():
        assert visible_run(session, viewer=Viewer(other), run_id=run_id, token=token)
        with pytest.raises(NotFoundError):
            visible_run(session, viewer=Viewer(other), run_id=run_id, token=token + "x")
        unshare_run(session, viewer=Viewer(owner), run_id=run_id)
    with Session(migrated_engine) as session, pytest.raises(NotFoundError):
        visible_run(session, viewer=Viewer(other), run_id=run_id, token=token)


def test_a_user_has_at_most_two_runs_queued_or_running(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    owner = add_user(migrated_engine, "busy@example.com")
    for _ in range(MAX_ACTIVE_RUNS):
        _stored(migrated_engine, owner, _request(stored_btc))
    with pytest.raises(ConflictError, match="2 backtests queued or running"):
        queue_run(
            migrated_engine,
            scan_settings,
            Background(None),
            user_id=owner,
            request=_request(stored_btc),
        )
    with Session(migrated_engine) as session, session.begin():
        for row in session.query(BacktestRun).all():
            row.status = DONE
    run_id = queue_run(
        migrated_engine,
        scan_settings,
        Background(None),
        user_id=owner,
        request=_request(stored_btc),
    )
    wait_for_background(timeout=60)
    with Session(migrated_engine) as session:
        row = session.get(BacktestRun, run_id)
        assert row is not None
        assert row.status == DONE
        assert json.loads(row.metrics or "{}")["trades"] > 0
        assert row.created_at > datetime.now(UTC) - timedelta(minutes=5)


def _sweep_run(
    engine: Engine, settings: Settings, request: BacktestRequest, sweep: dict[str, object]
) -> int:
    with Session(engine) as session, session.begin():
        plan = check_sweep(settings, request, sweep)
        return create_run(session, user_id=None, request=request, plan=plan).id


def test_a_sweep_run_ranks_its_combinations_with_progress_going_up_to_one(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    request = _request(stored_btc, taker_fee_bps="5")
    sweep = {"space": {"min_confluence": [1, 2], "stop_atr": "0.5:1.5:0.5"}, "metric": "sharpe"}
    run_id = _sweep_run(migrated_engine, scan_settings, request, sweep)
    seen: list[float] = []
    stages: list[str] = []

    def progress(fraction: float, stage: str) -> None:
        seen.append(fraction)
        stages.append(stage)

    assert execute_run(migrated_engine, scan_settings, run_id, progress=progress) == DONE
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert seen == sorted(seen)
    assert stages[-1] == "6/6 backtests"
    with Session(migrated_engine) as session:
        row = session.get(BacktestRun, run_id)
        assert row is not None
        assert (row.kind, row.trades, row.equity) == ("sweep", None, None)
        view = run_view(row)
    assert view.sweep is not None
    assert view.sweep["space"] == ["min_confluence=1,2", "stop_atr=0.5:1.5:0.5"]
    assert view.backtests_done == (6, 6)
    assert view.params == {"taker_fee_bps": 5.0}
    assert view.outcome is not None
    rows = view.outcome["rows"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert {(r["params"]["min_confluence"], r["params"]["stop_atr"]) for r in rows} == {
        (c, s) for c in (1, 2) for s in (0.5, 1.0, 1.5)
    }
    scores = [r["score"] for r in rows if r["score"] is not None]
    assert scores == sorted(scores, reverse=True)
    assert set(rows[0]["metrics"]) == set(MAIN_METRICS)
    assert rows[0]["single"] == {"taker_fee_bps": 5.0} | rows[0]["params"]
    # The best combination's metrics are kept in full: its single run reports the same.
    assert view.metrics is not None
    assert view.metrics["sharpe"] == rows[0]["score"]
    assert view.metrics["trades"] == rows[0]["metrics"]["trades"]
    assert "cagr" in view.metrics


def test_a_walk_forward_run_stores_its_splits_warnings_and_stitched_metrics(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    request = _request(stored_btc)
    sweep = {"space": ["min_confluence=1,2"], "walk_forward": {"in_days": 30, "out_days": 20}}
    run_id = _sweep_run(migrated_engine, scan_settings, request, sweep)
    seen: list[float] = []
    assert execute_run(migrated_engine, scan_settings, run_id, progress=lambda f, _: seen.append(f))
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    with Session(migrated_engine) as session:
        row = session.get(BacktestRun, run_id)
        assert row is not None
        assert row.kind == "walk_forward"
        view = run_view(row)
    assert view.outcome is not None
    splits = view.outcome["splits"]
    assert [s["index"] for s in splits] == [0, 1]  # 89 days: 30 in, then 20 out, twice
    assert view.backtests_done == (6, 6)
    assert splits[0]["in_end"] == splits[0]["out_start"]
    assert splits[0]["params"]["min_confluence"] in (1, 2)
    assert set(splits[0]["out_of_sample"]) == set(MAIN_METRICS)
    warned = [f"split {s['index']}: {s['warning']}" for s in splits if s["warning"]]
    assert view.outcome["warnings"] == warned
    assert view.metrics is not None
    assert view.metrics["trades"] == sum(s["out_of_sample"]["trades"] for s in splits)


def test_a_stored_sweep_the_code_now_refuses_fails_with_its_message(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    run_id = _sweep_run(
        migrated_engine, scan_settings, _request(stored_btc), {"space": ["min_confluence=1,2"]}
    )
    with Session(migrated_engine) as session, session.begin():
        row = session.get(BacktestRun, run_id)
        assert row is not None
        row.params = json.dumps({"params": {}, "sweep": {"space": ["gone=1,2"]}})
    assert execute_run(migrated_engine, scan_settings, run_id) == FAILED
    with Session(migrated_engine) as session:
        row = session.get(BacktestRun, run_id)
        assert row is not None
        assert row.error is not None
        assert "unknown sweep parameter gone" in row.error


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"space": ["bogus=1,2"]}, "unknown sweep parameter bogus"),
        ({"space": ["min_confluence=1:8:1", "stop_atr=0.1:10:0.05"]}, "exceed"),
        ({"space": ["min_confluence=1,2"], "metric": "luck"}, "unknown ranking metric"),
        (
            {"space": ["min_confluence=1,2"], "walk_forward": {"in_days": 0, "out_days": 5}},
            "in-sample",
        ),
        (
            {"space": ["min_confluence=1,2"], "walk_forward": {"in_days": 80, "out_days": 30}},
            "too short",
        ),
    ],
)
def test_a_bad_sweep_is_refused_before_a_run_is_stored(
    migrated_engine: Engine,
    scan_settings: Settings,
    stored_btc: Candles,
    sweep: dict[str, object],
    message: str,
) -> None:
    owner = add_user(migrated_engine, "sweeper@example.com")
    with pytest.raises(ValidationError, match=message):
        queue_run(
            migrated_engine,
            scan_settings,
            Background(None),
            user_id=owner,
            request=_request(stored_btc),
            sweep=sweep,
        )
    with Session(migrated_engine) as session:
        assert session.query(BacktestRun).count() == 0
