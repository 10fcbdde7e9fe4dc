"""API v1 portfolios with a key: create, read with the analytics summary, trades from fills
or from a signal ("take this trade"), fills, the CSV export; another owner's ids are 404s;
bad input is a 400 naming the field; plans without the portfolio get a 403."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from cryptolens.db.portfolio import Trade
from cryptolens.extensions import db
from tests.builders.api import call, make_key
from tests.builders.portfolio_web import count_rows, seed_portfolio
from tests.web.accounts_helpers import Person, csrf_token, make_user, sign_in
from tests.web.seeding import add_signal, add_symbol

ENTRY = {"side": "entry", "at": "2025-03-03T09:00:00Z", "price": "100", "quantity": "2"}


def _call(app: Flask, method: str, path: str, key: str, **kwargs: Any) -> TestResponse:
    return call(app.test_client(), method, f"/api/v1{path}", key, **kwargs)


def test_a_portfolio_is_created_and_read_with_its_summary(app: Flask, premium_user: Person) -> None:
    key = make_key(app, premium_user.id)
    made = _call(app, "POST", "/portfolios", key, json={"name": "API", "initial_balance": "2500.5"})
    assert made.status_code == 201
    assert made.json["data"]["initial_balance"] == "2500.5"
    portfolio_id = made.json["data"]["id"]
    read = _call(app, "GET", f"/portfolios/{portfolio_id}", key)
    assert read.json["data"]["summary"]["closed_trades"] == 0
    listed = _call(app, "GET", "/portfolios", key)
    assert [p["name"] for p in listed.json["data"]] == ["API"]


def test_trades_and_fills_close_a_trade_with_exact_decimals(
    app: Flask, premium_user: Person
) -> None:
    key = make_key(app, premium_user.id)
    seeded = seed_portfolio(app, premium_user.id)
    body = {"symbol": "ETH/USDT", "direction": "long", "planned_stop": "95", "fills": [ENTRY]}
    made = _call(app, "POST", f"/portfolios/{seeded.portfolio}/trades", key, json=body)
    assert made.status_code == 201, made.json
    trade_id = made.json["data"]["id"]
    exit_fill = {**ENTRY, "side": "exit", "at": "2025-03-04T09:00:00Z", "price": "100.1"}
    path = f"/portfolios/{seeded.portfolio}/trades/{trade_id}/fills"
    closed = _call(app, "POST", path, key, json=exit_fill)
    assert closed.status_code == 201
    data = closed.json["data"]
    assert (data["status"], data["realized_pnl"], data["r_multiple"]) == ("closed", "0.2", "0.02")
    summary = _call(app, "GET", f"/portfolios/{seeded.portfolio}", key).json["data"]["summary"]
    assert summary["closed_trades"] == 2
    trades = _call(app, "GET", f"/portfolios/{seeded.portfolio}/trades?status=closed", key)
    assert {t["id"] for t in trades.json["data"]} == {trade_id, seeded.closed_trade}


def test_a_trade_taken_from_a_signal_gets_its_levels_and_link(
    app: Flask, premium_user: Person
) -> None:
    with app.app_context():
        symbol_id = add_symbol(db.session, "SOL/USDT")
        signal_id = add_signal(db.session, symbol_id=symbol_id, direction="bearish", stop=104.0).id
        db.session.commit()
    key = make_key(app, premium_user.id)
    seeded = seed_portfolio(app, premium_user.id)
    body = {"signal_id": signal_id, "fills": [ENTRY]}
    made = _call(app, "POST", f"/portfolios/{seeded.portfolio}/trades", key, json=body)
    assert made.status_code == 201, made.json
    data = made.json["data"]
    assert (data["symbol"], data["direction"], data["planned_stop"], data["signal_id"]) == (
        "SOL/USDT",
        "short",
        "104",
        signal_id,
    )


def test_bad_trades_are_400s_naming_the_problem_and_store_nothing(
    app: Flask, premium_user: Person
) -> None:
    key = make_key(app, premium_user.id)
    seeded = seed_portfolio(app, premium_user.id)
    path = f"/portfolios/{seeded.portfolio}/trades"
    base = {"symbol": "ETH/USDT", "direction": "long", "planned_stop": "95"}
    before = count_rows(app, Trade)
    negative = _call(app, "POST", path, key, json={**base, "fills": [{**ENTRY, "price": "-1"}]})
    assert negative.status_code == 400
    assert "price" in negative.json["error"]
    too_big = {**ENTRY, "side": "exit", "quantity": "3", "at": "2025-03-03T10:00:00Z"}
    over = _call(app, "POST", path, key, json={**base, "fills": [ENTRY, too_big]})
    assert over.status_code == 400
    future = _call(
        app, "POST", path, key, json={**base, "fills": [{**ENTRY, "at": "2999-01-01T00:00:00Z"}]}
    )
    assert future.status_code == 400
    no_stop = _call(app, "POST", path, key, json={"symbol": "ETH/USDT", "fills": [ENTRY]})
    assert no_stop.status_code == 400
    assert count_rows(app, Trade) == before


def test_another_owners_portfolio_and_trades_are_404s(app: Flask, premium_user: Person) -> None:
    other = make_user(app, "other@example.com", plan="premium")
    theirs = seed_portfolio(app, other.id)
    mine = seed_portfolio(app, premium_user.id)
    key = make_key(app, premium_user.id)
    for path in (
        f"/portfolios/{theirs.portfolio}",
        f"/portfolios/{theirs.portfolio}/trades",
        f"/portfolios/{theirs.portfolio}/export",
    ):
        assert _call(app, "GET", path, key).status_code == 404, path
    fill = {**ENTRY, "side": "exit", "quantity": "1", "at": "2025-03-04T09:00:00Z"}
    crossed = f"/portfolios/{mine.portfolio}/trades/{theirs.open_trade}/fills"
    assert _call(app, "POST", crossed, key, json=fill).status_code == 404
    body = {"symbol": "ETH/USDT", "direction": "long", "planned_stop": "95", "fills": [ENTRY]}
    into = _call(app, "POST", f"/portfolios/{theirs.portfolio}/trades", key, json=body)
    assert into.status_code == 404
    assert count_rows(app, Trade, portfolio_id=theirs.portfolio) == 2


def test_the_export_is_the_pages_csv(app: Flask, premium_user: Person) -> None:
    key = make_key(app, premium_user.id)
    seeded = seed_portfolio(app, premium_user.id)
    data = _call(app, "GET", f"/portfolios/{seeded.portfolio}/export", key).json["data"]
    assert data["content_type"] == "text/csv"
    assert data["csv"].startswith("trade,symbol,direction")


def test_sessions_follow_the_plan_pro_one_portfolio_free_none(app: Flask) -> None:
    for email, plan, expected in (("pro@example.com", "pro", 403), ("free@example.com", None, 403)):
        person = make_user(app, email, plan=plan)
        if plan == "pro":
            seed_portfolio(app, person.id)
        client = app.test_client()
        assert sign_in(client, person).status_code == 302
        headers = {"X-CSRFToken": csrf_token(client, "/account/")}
        body = {"name": "Another", "initial_balance": "100"}
        answer = client.post("/api/v1/portfolios", json=body, headers=headers)
        assert answer.status_code == expected, answer.json
        assert "plan" in answer.json["error"]
