"""The backtest pages: Premium only (a shared run excepted), the form's defaults and
refusals, a run from the form to its metrics, curves, price chart and CSV, and share links."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from cryptolens.db.backtests import BacktestRun
from cryptolens.detect import Candles
from cryptolens.extensions import db
from cryptolens.services.backtests.store import MAX_ACTIVE_RUNS, TRADE_COLUMNS
from cryptolens.services.ops.background import wait_for_background
from tests.builders.backtests_web import (
    PUBLIC_URL,
    Member,
    member,
    queued_run,
    run_form,
    start_run,
)

pytestmark = pytest.mark.db


@pytest.mark.parametrize("plan", [None, "pro"])
def test_plans_without_backtests_get_the_upgrade_page(app: Flask, plan: str | None) -> None:
    who = member(app, f"{plan or 'free'}@example.com", plan=plan)
    page = who.client.get("/backtests")
    assert page.status_code == 403
    assert "Premium" in page.text
    assert 'id="nav-backtests"' not in page.text
    assert who.post("/backtests", run_form()).status_code == 403


def test_the_form_offers_the_stored_symbols_and_their_newest_ninety_days(
    premium_member: Member, stored_btc: Candles
) -> None:
    page = premium_member.client.get("/backtests")
    assert page.status_code == 200
    assert 'id="nav-backtests"' in page.text
    assert re.search(
        r'<option value="BTC/USDT" selected>BTC/USDT \(2017-07-01 to 2017-09-29\)', page.text
    )
    assert 'name="since" id="bt-since" value="2017-07-02"' in page.text
    assert 'name="until" id="bt-until" value="2017-09-29"' in page.text
    assert 'name="min_confluence" value="2"' in page.text
    assert "votes: timeframes on distinct events" in page.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_confluence": "0"}, "parameter min_confluence must be between 1 and 8, got 0"),
        ({"advanced": "bogus=1"}, "unknown backtest parameter bogus"),
        ({"advanced": "proximity"}, "advanced parameters, line 1: write name=value"),
        ({"tp1_r": "3", "tp2_r": "2"}, "targets_r must be three increasing positive multiples"),
        ({"since": ""}, "Since is required"),
        ({"until": "31/08/2017"}, "Until must be a date such as 2024-01-31"),
        ({"since": "2017-08-02", "until": "2017-07-01"}, "until must be after since"),
        ({"since": "2014-01-01", "until": "2017-08-01"}, "allows backtests of up to 1,096 days"),
        ({"symbol": ""}, "symbol is required"),
        ({"symbol": "DOGE/USDT"}, "no stored candles for &#39;DOGE/USDT&#39;; stored: BTC/USDT"),
        ({"symbol": "X" * 500}, "no stored candles for &#39;XXXXXXXX"),
        ({"until": "9999-12-31"}, "Until must be a date between 2000 and 2100"),
    ],
)
def test_bad_input_shows_the_form_again_with_the_message(
    premium_member: Member, stored_btc: Candles, fields: dict[str, str], message: str
) -> None:
    answer = premium_member.post("/backtests", run_form(**fields))
    assert answer.status_code == 400
    assert 'class="form-error"' in answer.text
    assert message in answer.text
    assert 'id="backtest-form"' in answer.text
    assert "Traceback" not in answer.text


def test_a_form_without_its_csrf_token_is_refused(premium_member: Member) -> None:
    assert premium_member.client.post("/backtests", data=run_form()).status_code == 403


def test_a_run_goes_from_the_form_to_its_metrics_curves_and_price_chart(
    premium_member: Member, stored_btc: Candles
) -> None:
    run_id = start_run(premium_member, advanced="risk_pct=2")
    client = premium_member.client
    status = client.get(f"/backtests/{run_id}/status").get_json()
    assert status == {"status": "done", "progress": 1.0, "error": None}
    page = client.get(f"/backtests/{run_id}")
    assert page.status_code == 200
    trades = int(re.search(r'id="m-trades">(\d+)<', page.text).group(1))  # type: ignore[union-attr]
    assert trades > 0
    assert re.search(r'id="m-return">-?[\d.]+%<', page.text)
    curve = json.loads(_attribute(page.text, "bt-equity", "data-series"))
    assert len(curve["time"]) == len(curve["equity"]) == len(curve["drawdown"]) > 24 * 40
    bars = json.loads(_attribute(page.text, "bt-price", "data-bars"))
    markers = json.loads(_attribute(page.text, "bt-price", "data-markers"))
    assert 0 < len(bars) <= 2000
    assert len(markers) == 2 * trades
    assert page.text.count("<tr><td>") >= trades
    assert '<th>risk_pct</th><td class="num">2.0</td>' in page.text
    assert 'id="code-version"' in page.text
    listing = client.get("/backtests")
    assert f'href="/backtests/{run_id}"' in listing.text
    assert "2017-07-02 to 2017-08-15" in listing.text


def _attribute(page: str, element_id: str, name: str) -> str:
    tag = re.search(rf'<div id="{element_id}"[^>]*>', page)
    assert tag, element_id
    found = re.search(rf"{name}='([^']*)'", tag.group(0))
    assert found, name
    return found.group(1).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")


def test_the_csv_has_a_row_per_trade_under_the_trade_columns(
    premium_member: Member, stored_btc: Candles
) -> None:
    run_id = start_run(premium_member)
    answer = premium_member.client.get(f"/backtests/{run_id}/trades.csv")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="backtest-{run_id}-trades.csv"'
    )
    rows = list(csv.reader(io.StringIO(answer.text)))
    page = premium_member.client.get(f"/backtests/{run_id}").text
    trades = int(re.search(r'id="m-trades">(\d+)<', page).group(1))  # type: ignore[union-attr]
    assert tuple(rows[0]) == TRADE_COLUMNS
    assert len(rows) == 1 + trades
    assert {row[0] for row in rows[1:]} == {"BTC/USDT"}
    assert all(row[1] in {"bullish", "bearish"} for row in rows[1:])


def test_a_range_without_candles_is_refused_before_a_run_is_stored(
    app: Flask, premium_member: Member, stored_btc: Candles
) -> None:
    answer = premium_member.post("/backtests", run_form(since="2019-01-01", until="2019-01-31"))
    assert answer.status_code == 400
    assert "no stored 1h candles for BTC/USDT" in answer.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BacktestRun)) == 0


def test_a_failed_run_shows_its_message(app: Flask, premium_member: Member) -> None:
    run_id = queued_run(app, premium_member.person.id)
    with app.app_context():
        row = db.session.get(BacktestRun, run_id)
        assert row is not None
        row.status, row.error = "failed", "no stored 1h candles for BTC/USDT between …"
        db.session.commit()
    page = premium_member.client.get(f"/backtests/{run_id}")
    assert page.status_code == 200
    assert re.search(r'id="run-error">no stored 1h candles for BTC/USDT', page.text)
    assert 'id="bt-equity"' not in page.text


def test_a_queued_run_shows_a_progress_bar_that_polls_its_status(
    app: Flask, premium_member: Member
) -> None:
    run_id = queued_run(app, premium_member.person.id)
    page = premium_member.client.get(f"/backtests/{run_id}")
    assert page.status_code == 200
    assert f'data-status-url="/backtests/{run_id}/status"' in page.text
    assert re.search(r'<progress id="run-progress" max="1" value="0.0"', page.text)
    assert "js/backtest.js" in page.text
    status = premium_member.client.get(f"/backtests/{run_id}/status").get_json()
    assert status == {"status": "queued", "progress": 0.0, "error": None}


def test_more_runs_than_allowed_at_once_is_a_conflict(
    app: Flask, premium_member: Member, stored_btc: Candles
) -> None:
    for _ in range(MAX_ACTIVE_RUNS):
        queued_run(app, premium_member.person.id)
    answer = premium_member.post("/backtests", run_form())
    wait_for_background()
    assert answer.status_code == 409
    assert f"You have {MAX_ACTIVE_RUNS} backtests queued or running" in answer.text


def test_a_shared_run_opens_for_signed_in_users_with_the_link_until_unshared(
    app: Flask, premium_member: Member, stored_btc: Candles
) -> None:
    run_id = start_run(premium_member)
    owner = premium_member
    other = member(app, "reader@example.com", plan=None)  # Free: the link is enough
    assert other.client.get(f"/backtests/{run_id}").status_code == 403
    assert other.post(f"/backtests/{run_id}/share").status_code == 403
    rival = member(app, "rival@example.com")
    assert rival.client.get(f"/backtests/{run_id}").status_code == 404
    assert rival.post(f"/backtests/{run_id}/share").status_code == 404
    assert owner.post(f"/backtests/{run_id}/share").status_code == 302
    page = owner.client.get(f"/backtests/{run_id}", headers={"Host": "localhost"})
    link = re.search(r'value="([^"]+)" id="share-link"', page.text)
    assert link is not None, "no share link"
    assert link.group(1).startswith(f"{PUBLIC_URL}/backtests/{run_id}?share=")
    path = link.group(1).removeprefix(PUBLIC_URL)
    token = path.split("share=", 1)[1]
    shared = other.client.get(path)
    assert shared.status_code == 200
    assert 'id="m-trades"' in shared.text
    assert 'id="sharing"' not in shared.text
    assert f"/backtests/{run_id}/trades.csv?share={token}" in shared.text
    assert other.client.get(f"/backtests/{run_id}/trades.csv?share={token}").status_code == 200
    assert other.client.get(f"/backtests/{run_id}/status?share={token}").status_code == 200
    assert other.client.get(f"/backtests/{run_id}?share=wrong").status_code == 404
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302
    assert "/auth/login" in anonymous.headers["Location"]
    assert owner.post(f"/backtests/{run_id}/unshare").status_code == 302
    assert other.client.get(path).status_code == 404
    assert 'id="share-link"' not in owner.client.get(f"/backtests/{run_id}").text


def test_a_sweep_goes_from_the_form_to_its_ranking_with_a_link_running_the_best(
    premium_member: Member, stored_btc: Candles
) -> None:
    run_id = start_run(
        premium_member,
        advanced="risk_pct=2",
        sweep="min_confluence=1,2\nstop_atr=0.5:1:0.5",
        sweep_metric="total_return",
    )
    client = premium_member.client
    status = client.get(f"/backtests/{run_id}/status").get_json()
    assert status == {"status": "done", "progress": 1.0, "error": None, "done": 4, "total": 4}
    page = client.get(f"/backtests/{run_id}")
    assert page.status_code == 200
    assert "Sweep #" in page.text
    assert "Ranking by total_return · 4 combinations" in page.text
    ranks = re.findall(r'<tr class="(best)?" data-rank="(\d)">', page.text)
    assert ranks == [("best", "1"), ("", "2"), ("", "3"), ("", "4")]
    assert 'id="best-metrics"' in page.text
    assert 'id="bt-equity"' not in page.text  # no curve for a sweep
    assert "<code>min_confluence=1,2</code> <code>stop_atr=0.5:1:0.5</code>" in page.text
    link = re.search(r'class="button small run-combination" href="([^"]+)"', page.text)
    assert link
    form = client.get(link.group(1).replace("&amp;", "&"))
    assert form.status_code == 200
    advanced = re.search(r'id="bt-advanced"[^>]*>([^<]*)</textarea>', form.text)
    assert advanced
    lines = set(advanced.group(1).split("\n"))
    assert "risk_pct=2.0" in lines
    assert {line.split("=")[0] for line in lines} == {"risk_pct", "min_confluence", "stop_atr"}
    assert 'name="since" id="bt-since" value="2017-07-02"' in form.text
    listing = client.get("/backtests")
    assert f'href="/backtests/{run_id}">#{run_id}</a></td><td>sweep</td>' in listing.text


def test_a_walk_forward_shows_its_splits_and_stitched_metrics(
    premium_member: Member, stored_btc: Candles
) -> None:
    run_id = start_run(
        premium_member,
        until="2017-09-20",
        sweep="min_confluence=1,2",
        wf_in_days="30",
        wf_out_days="20",
    )
    page = premium_member.client.get(f"/backtests/{run_id}")
    assert page.status_code == 200, page.text
    assert "Walk-forward #" in page.text
    assert 'id="wf-warnings"' in page.text
    assert page.text.count("<td>2017-") == 2 * 2  # two splits, in and out windows
    assert 'id="stitched-metrics"' in page.text
    assert "30 days in, 20 days out" in page.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sweep": "bogus=1,2"}, "unknown sweep parameter bogus"),
        ({"sweep": "min_confluence=1:8:1\nstop_atr=0.1:10:0.05"}, "exceed the limit"),
        ({"sweep": "min_confluence=1,2", "sweep_metric": "luck"}, "unknown ranking metric"),
        ({"sweep": "min_confluence=1,2", "sweep_seed": "x"}, "Seed must be a whole number"),
        ({"sweep": "min_confluence=1,2", "wf_in_days": "30"}, "out-of-sample days must be above 0"),
        ({"wf_in_days": "30", "wf_out_days": "10"}, "a sweep needs at least one name=values"),
        (
            {"sweep": "min_confluence=1,2", "wf_in_days": "40", "wf_out_days": "10"},
            "too short",
        ),
    ],
)
def test_a_bad_sweep_shows_the_form_again_and_stores_no_run(
    app: Flask, premium_member: Member, stored_btc: Candles, fields: dict[str, str], message: str
) -> None:
    answer = premium_member.post("/backtests", run_form(**fields))
    assert answer.status_code == 400
    assert message in answer.text
    assert "Traceback" not in answer.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BacktestRun)) == 0
