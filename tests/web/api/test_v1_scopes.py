"""Every API v1 endpoint by every scope: a key without the endpoint's scope gets a 403 naming
it, a key with only that scope gets through; nobody gets a 401; the table covers every route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from cryptolens.domain.api_scopes import Scope
from cryptolens.extensions import db
from tests.builders.api import ALL_SCOPES, call, make_key
from tests.builders.portfolio_web import seed_portfolio
from tests.web.accounts_helpers import Person, csrf_token, sign_in
from tests.web.seeding import add_pattern, add_signal, add_symbol


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    scope: Scope
    ok: int = 200
    body: dict[str, Any] | None = field(default=None)


PORTFOLIO = "/api/v1/portfolios/{portfolio}"
ENDPOINTS: dict[str, Endpoint] = {
    "api_v1.symbols": Endpoint("GET", "/api/v1/symbols", Scope.READ_SYMBOLS),
    "api_v1.add_symbol": Endpoint(
        "POST", "/api/v1/symbols", Scope.ADMIN_SYMBOLS, 201, {"symbol": "ETH/USDT"}
    ),
    "api_v1.remove_symbol": Endpoint("DELETE", "/api/v1/symbols/BTC/USDT", Scope.ADMIN_SYMBOLS),
    "api_v1.candles": Endpoint("GET", "/api/v1/candles?symbol=BTC/USDT", Scope.READ_MARKET),
    "api_v1.matrix": Endpoint("GET", "/api/v1/matrix", Scope.READ_MARKET),
    "api_v1.patterns": Endpoint("GET", "/api/v1/patterns", Scope.READ_PATTERNS),
    "api_v1.signals": Endpoint("GET", "/api/v1/signals", Scope.READ_SIGNALS),
    "api_v1.signal": Endpoint("GET", "/api/v1/signals/{signal}", Scope.READ_SIGNALS),
    "api_v1.record": Endpoint("GET", "/api/v1/track-record", Scope.READ_SIGNALS),
    "api_v1.account": Endpoint("GET", "/api/v1/account", Scope.READ_ACCOUNT),
    "api_v1.scan": Endpoint("POST", "/api/v1/scan", Scope.WRITE_SCAN, 202, {}),
    "api_v1.fetch": Endpoint("POST", "/api/v1/fetch", Scope.WRITE_SCAN, 202, {}),
    "api_v1.scheduler_jobs": Endpoint("GET", "/api/v1/scheduler/jobs", Scope.ADMIN_SCHEDULER),
    "api_v1.list_portfolios": Endpoint("GET", "/api/v1/portfolios", Scope.READ_PORTFOLIO),
    "api_v1.create_portfolio": Endpoint(
        "POST",
        "/api/v1/portfolios",
        Scope.WRITE_PORTFOLIO,
        201,
        {"name": "By API", "initial_balance": "2500"},
    ),
    "api_v1.get_portfolio": Endpoint("GET", PORTFOLIO, Scope.READ_PORTFOLIO),
    "api_v1.list_trades": Endpoint("GET", f"{PORTFOLIO}/trades", Scope.READ_PORTFOLIO),
    "api_v1.create_trade": Endpoint(
        "POST",
        f"{PORTFOLIO}/trades",
        Scope.WRITE_PORTFOLIO,
        201,
        {
            "symbol": "ETH/USDT",
            "direction": "short",
            "planned_stop": "110",
            "fills": [{"side": "entry", "at": "2025-03-03T09:00:00Z", "price": 100, "quantity": 2}],
        },
    ),
    "api_v1.add_fill": Endpoint(
        "POST",
        f"{PORTFOLIO}/trades/{{open_trade}}/fills",
        Scope.WRITE_PORTFOLIO,
        201,
        {"side": "exit", "at": "2025-03-04T09:00:00Z", "price": "105", "quantity": "1"},
    ),
    "api_v1.export_portfolio": Endpoint("GET", f"{PORTFOLIO}/export", Scope.READ_PORTFOLIO),
    # No candles are stored here: refused by name after the scope check.
    "api_v1.create_backtest": Endpoint(
        "POST",
        "/api/v1/backtests",
        Scope.WRITE_BACKTEST,
        400,
        {"symbol": "BTC/USDT", "since": "2024-01-01", "until": "2024-02-01"},
    ),
    "api_v1.list_backtests": Endpoint("GET", "/api/v1/backtests", Scope.READ_BACKTEST),
    "api_v1.get_backtest": Endpoint("GET", "/api/v1/backtests/999999", Scope.READ_BACKTEST, 404),
    # Without Redis there is no worker to run it: 409 says so (after the scope check).
    "api_v1.run_job": Endpoint(
        "POST", "/api/v1/scheduler/jobs/refresh_stats/run", Scope.ADMIN_SCHEDULER, 409
    ),
}


def _signal(app: Flask) -> int:
    with app.app_context():
        symbol_id = add_symbol(db.session, "BTC/USDT")
        zone = add_pattern(db.session, symbol_id=symbol_id)
        signal_id = add_signal(db.session, symbol_id=symbol_id, patterns=(zone,)).id
        db.session.commit()
    return signal_id


def _answer(
    app: Flask, endpoint: Endpoint, key: str | None, signal_id: int, owner: Person | None = None
) -> Any:
    """``endpoint`` called with ``key``; a portfolio path names ``owner``'s own rows."""
    objects = {"portfolio": 1, "open_trade": 1}
    if owner is not None and "{portfolio}" in endpoint.path:
        objects = seed_portfolio(app, owner.id).paths()
    path = endpoint.path.format(signal=signal_id, **objects)
    response = call(app.test_client(), endpoint.method, path, key, json=endpoint.body)
    return response


def test_every_v1_route_has_a_row(app: Flask) -> None:
    routes = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("api_v1.")}
    assert routes - {"api_v1.openapi"} == set(ENDPOINTS)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_a_key_without_the_scope_is_refused_naming_it(
    app: Flask, admin_user: Person, name: str
) -> None:
    endpoint = ENDPOINTS[name]
    signal_id = _signal(app)
    others = [s for s in ALL_SCOPES if s != endpoint.scope.value]
    response = _answer(app, endpoint, make_key(app, admin_user.id, others), signal_id, admin_user)
    assert response.status_code == 403
    assert response.json["success"] is False
    assert endpoint.scope.value in response.json["error"]


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_a_key_with_only_the_scope_gets_through(app: Flask, admin_user: Person, name: str) -> None:
    endpoint = ENDPOINTS[name]
    signal_id = _signal(app)
    key = make_key(app, admin_user.id, [endpoint.scope])
    response = _answer(app, endpoint, key, signal_id, admin_user)
    assert response.status_code == endpoint.ok, response.json
    assert response.json["success"] is (endpoint.ok < 400)
    assert response.json["meta"]["request_id"]


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_anonymous_callers_are_refused_in_the_envelope(app: Flask, name: str) -> None:
    """Reads: 401. Writes without a key are cookie writes: the CSRF check refuses first."""
    endpoint = ENDPOINTS[name]
    response = _answer(app, endpoint, None, _signal(app))
    assert response.json["success"] is False
    if endpoint.method == "GET":
        assert response.status_code == 401
    else:
        assert response.status_code == 403
        assert "CSRF" in response.json["error"]


@pytest.mark.parametrize("name", sorted(n for n, e in ENDPOINTS.items() if e.scope.admin_only))
def test_admin_endpoints_refuse_a_premium_session(
    app: Flask, premium_user: Person, name: str
) -> None:
    """A session holds every scope its account may: not the admin ones of a non-admin."""
    client = app.test_client()
    assert sign_in(client, premium_user).status_code == 302
    endpoint = ENDPOINTS[name]
    headers = {"X-CSRFToken": csrf_token(client)}
    path = endpoint.path.format(signal=_signal(app))
    response = client.open(path, method=endpoint.method, json=endpoint.body, headers=headers)
    assert response.status_code == 403
    assert "administrators" in response.json["error"]
