"""Bad input is a 400 envelope naming the field; cursor paging; plan caps; the spec and docs."""

from __future__ import annotations

import pytest
from flask import Flask

from cryptolens.extensions import db
from tests.builders.api import call, make_key
from tests.web.accounts_helpers import Person, make_user, sign_in
from tests.web.seeding import add_pattern, add_signal, add_symbol


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/patterns?bogus=1", "bogus: unknown parameter"),
        ("/api/v1/patterns?limit=201", "limit"),
        ("/api/v1/patterns?limit=99999999999999999999999", "limit"),
        ("/api/v1/patterns?limit=-1", "limit"),
        ("/api/v1/patterns?symbol=BTC%07/USDT", "symbol"),
        ("/api/v1/patterns?symbol=" + "A" * 500, "symbol"),
        ("/api/v1/patterns?timeframe=7m", "timeframe"),
        ("/api/v1/patterns?cursor=%0A", "cursor"),
        ("/api/v1/patterns?cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("/api/v1/signals?outcome=moon", "outcome"),
        ("/api/v1/candles", "symbol"),
        ("/api/v1/candles?symbol=BTC/USDT&start=-5", "start"),
        ("/api/v1/track-record?group_by=planet", "group_by"),
        ("/api/v1/symbols?x=1", "x: unknown parameter"),
    ],
)
def test_bad_query_is_a_400_naming_the_field(
    app: Flask, premium_user: Person, path: str, field: str
) -> None:
    response = call(app.test_client(), "GET", path, make_key(app, premium_user.id))
    assert response.status_code == 400
    assert response.json["success"] is False
    assert field in response.json["error"]


def test_bad_body_is_a_400_naming_the_field(app: Flask, premium_user: Person) -> None:
    key = make_key(app, premium_user.id)
    client = app.test_client()
    extra = call(client, "POST", "/api/v1/scan", key, json={"symbols": [], "force": True})
    assert extra.status_code == 400
    assert "force: unknown parameter" in extra.json["error"]
    bad = call(client, "POST", "/api/v1/fetch", key, json={"symbols": ["BTC\u0007/USDT"]})
    assert bad.status_code == 400
    assert "symbols.0" in bad.json["error"]


@pytest.mark.parametrize("signal", ["18446744073709551616", "9223372036854775808", "-1"])
def test_ids_beyond_64_bits_are_404_not_500(app: Flask, premium_user: Person, signal: str) -> None:
    response = call(
        app.test_client(), "GET", f"/api/v1/signals/{signal}", make_key(app, premium_user.id)
    )
    assert response.status_code == 404
    assert response.json["success"] is False


def test_api_key_in_the_query_is_not_an_unknown_parameter(app: Flask, premium_user: Person) -> None:
    key = make_key(app, premium_user.id)
    response = app.test_client().get(f"/api/v1/patterns?api_key={key}")
    assert response.status_code == 200
    assert response.json["data"] == []


def _zones(app: Flask, count: int) -> list[int]:
    with app.app_context():
        symbol_id = add_symbol(db.session, "BTC/USDT")
        ids = [
            add_pattern(db.session, symbol_id=symbol_id, formed_at=1_000_000 + n * 60_000).id
            for n in range(count)
        ]
        db.session.commit()
    return ids


def test_patterns_page_by_cursor_newest_first_to_the_end(app: Flask, premium_user: Person) -> None:
    ids = _zones(app, 7)
    client, key = app.test_client(), make_key(app, premium_user.id)
    seen: list[int] = []
    path = "/api/v1/patterns?limit=3"
    pages = 0
    while path:
        body = call(client, "GET", path, key).json
        seen += [row["id"] for row in body["data"]]
        assert body["meta"]["count"] == len(body["data"])
        cursor = body["meta"]["next_cursor"]
        path = f"/api/v1/patterns?limit=3&cursor={cursor}" if cursor else ""
        pages += 1
    assert seen == list(reversed(ids))
    assert pages == 3


def test_pro_session_sees_only_the_newest_100_zones(app: Flask) -> None:
    _zones(app, 105)
    client = app.test_client()
    assert sign_in(client, make_user(app, "pro@example.com", plan="pro")).status_code == 302
    seen, path = 0, "/api/v1/patterns?limit=40"
    while path:
        body = client.get(path).json
        seen += len(body["data"])
        cursor = body["meta"]["next_cursor"]
        path = f"/api/v1/patterns?limit=40&cursor={cursor}" if cursor else ""
    assert seen == 100


def test_free_session_is_refused_the_lists_naming_the_plan(app: Flask) -> None:
    client = app.test_client()
    assert sign_in(client, make_user(app, "free@example.com")).status_code == 302
    response = client.get("/api/v1/signals")
    assert response.status_code == 403
    assert "Pro" in response.json["error"] or "pro" in response.json["error"]


def test_one_signal_with_its_zones(app: Flask, premium_user: Person) -> None:
    with app.app_context():
        symbol_id = add_symbol(db.session, "BTC/USDT")
        zone = add_pattern(db.session, symbol_id=symbol_id)
        signal = add_signal(db.session, symbol_id=symbol_id, patterns=(zone,))
        db.session.commit()
        signal_id, zone_id = signal.id, zone.id
    response = call(
        app.test_client(), "GET", f"/api/v1/signals/{signal_id}", make_key(app, premium_user.id)
    )
    assert response.status_code == 200
    data = response.json["data"]
    assert data["signal"]["id"] == signal_id
    assert [z["id"] for z in data["zones"]] == [zone_id]
    assert "outcome" in data["signal"]


def test_account_shows_the_key_and_its_limits(app: Flask, premium_user: Person) -> None:
    key = make_key(app, premium_user.id, ["read:account"])
    data = call(app.test_client(), "GET", "/api/v1/account", key).json["data"]
    assert data["email"] == premium_user.email
    assert data["auth"] == "api_key"
    assert data["scopes"] == ["read:account"]
    assert data["rate_limits"] == [200, 5000, 50000]
    assert [k["id"] for k in data["api_keys"]] == [data["api_key_id"]]


def test_openapi_document_is_3_1_and_lists_every_operation(client: object, app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    assert "/api/v1/patterns" in spec["paths"]
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert len(operations) == 24  # 14, 7 of the portfolio and 3 of backtests
    assert "/api/v1/portfolios/{portfolio_id}/trades" in spec["paths"]
    assert "409" in spec["paths"]["/api/v1/backtests"]["post"]["responses"]
    assert all("400" in op["responses"] and "429" in op["responses"] for op in operations)
    assert spec["components"]["securitySchemes"]["ApiKeyHeader"]["name"] == "X-API-Key"


def test_docs_page_loads_swagger_ui_from_this_site_under_the_strict_csp(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/vendor/swagger-ui-bundle.js" in html
    assert "/static/js/api-docs.js" in html
    assert "<script>" not in html  # no inline script
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "unsafe" not in page.headers["Content-Security-Policy"]
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        asset = client.get(f"/vendor/{name}")
        assert asset.status_code == 200
        asset.close()
