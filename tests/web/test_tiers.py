"""The plans on the market pages: what Free, Pro and Premium users (and admins) see.

Free: no patterns or signals pages (403 with an upgrade link), BTC/USDT and FVG zones only
on the dashboard matrix and the chart; Pro: the newest 100 zones and 50 signals; Premium and
admins: everything. The access matrix covers who may open a page at all; this covers what
the page then shows.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cryptolens.extensions import cache, db
from tests.web.accounts_helpers import signed_in_client
from tests.web.seeding import add_pattern, add_signal, add_symbol

ZONES = 120  # more than Pro's 100
SIGNALS = 60  # more than Pro's 50
TYPES = ("fvg", "order_block", "liquidity_sweep")
_ROW_ID = re.compile(r'class="signal-row" data-id="(\d+)"')


@pytest.fixture
def market(app: Flask) -> list[int]:
    """BTC/USDT and ETH/USDT, ZONES open zones of every type on each, SIGNALS signals;
    returns the signal ids oldest first."""
    with app.app_context():
        btc, eth = add_symbol(db.session, "BTC/USDT"), add_symbol(db.session, "ETH/USDT")
        for symbol_id in (btc, eth):
            for i in range(ZONES):
                add_pattern(db.session, symbol_id=symbol_id, pattern_type=TYPES[i % 3])
        ids = [add_signal(db.session, symbol_id=(btc, eth)[i % 2]).id for i in range(SIGNALS)]
        db.session.commit()
        cache.clear()
    return ids


def client_for(app: Flask, plan: str) -> FlaskClient:
    if plan == "admin":
        return signed_in_client(app, "admin@example.com", admin=True)
    return signed_in_client(app, f"{plan}@example.com", plan=None if plan == "free" else plan)


def _pattern_rows(client: FlaskClient, query: str = "") -> int:
    answer = client.get(f"/patterns?per_page=200{query}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True).count('class="pattern-row"')


def _signal_ids(client: FlaskClient, query: str = "") -> list[int]:
    answer = client.get(f"/signals?per_page=200{query}")
    assert answer.status_code == 200
    return [int(found) for found in _ROW_ID.findall(answer.get_data(as_text=True))]


@pytest.mark.parametrize(("plan", "zones", "signals"), [("pro", 100, 50), ("premium", 240, 60)])
def test_lists_show_the_newest_rows_the_plan_allows(
    app: Flask, market: list[int], plan: str, zones: int, signals: int
) -> None:
    client = client_for(app, plan)
    assert _pattern_rows(client) == min(zones, 200)
    assert _pattern_rows(client, "&page=2") == zones - min(zones, 200)
    shown = _signal_ids(client)
    assert shown == market[::-1][:signals]  # the newest, newest first


def test_pro_pages_say_the_history_is_capped_and_premium_pages_do_not(
    app: Flask, market: list[int]
) -> None:
    assert "Your plan shows the newest 100" in client_for(app, "pro").get("/patterns").text
    assert "Your plan shows the newest" not in client_for(app, "premium").get("/patterns").text


def test_admins_see_everything_whatever_their_plan(app: Flask, market: list[int]) -> None:
    admin = client_for(app, "admin")
    assert _pattern_rows(admin) == 200
    assert len(_signal_ids(admin)) == SIGNALS
    assert admin.get(f"/signals/{market[0]}").status_code == 200


@pytest.mark.parametrize("path", ["/patterns", "/signals", "/signals/{signal}"])
def test_free_users_get_an_upgrade_page_for_patterns_and_signals(
    app: Flask, market: list[int], path: str
) -> None:
    answer = client_for(app, "free").get(path.format(signal=market[-1]))
    assert answer.status_code == 403
    assert "needs the Pro plan" in answer.text
    assert "See plans and your subscription" in answer.text


def test_pro_opens_a_signal_only_within_the_newest_fifty(app: Flask, market: list[int]) -> None:
    pro, premium = client_for(app, "pro"), client_for(app, "premium")
    newest_allowed, first_hidden = market[-50], market[-51]
    assert pro.get(f"/signals/{newest_allowed}").status_code == 200
    refused = pro.get(f"/signals/{first_hidden}")
    assert refused.status_code == 403
    assert "needs the Premium plan" in refused.text
    assert premium.get(f"/signals/{first_hidden}").status_code == 200


def test_free_dashboard_matrix_shows_btc_fvg_only_even_after_a_premium_rendering(
    app: Flask, market: list[int]
) -> None:
    premium_page = client_for(app, "premium").get("/").text  # fills the matrix cache first
    free_page = client_for(app, "free").get("/").text
    matrix = re.compile(r'<table class="grid matrix".*?</table>', re.S)
    premium_matrix = matrix.search(premium_page)
    free_matrix = matrix.search(free_page)
    assert premium_matrix
    assert free_matrix
    assert "ETH/USDT" in premium_matrix.group(0)
    assert "type-order_block" in premium_matrix.group(0)
    assert "BTC/USDT" in free_matrix.group(0)
    assert "ETH/USDT" not in free_matrix.group(0)
    chips = set(re.findall(r"type-(\w+)", free_matrix.group(0)))
    assert chips == {"fvg"}
    assert "#" + str(market[-1]) not in free_page  # no latest signals for Free either


def test_free_user_asking_for_another_symbols_chart_gets_an_upgrade_message(
    app: Flask, market: list[int]
) -> None:
    free = client_for(app, "free")
    page = free.get("/symbols/ETH/USDT")
    assert page.status_code == 403
    assert "ETH/USDT chart needs the Pro plan" in page.text
    for kind in ("candles", "zones", "signals"):
        answer = free.get(f"/api/chart/{kind}?symbol=ETH/USDT")
        assert answer.status_code == 403
        body = answer.get_json()
        assert body["success"] is False
        assert "needs the Pro plan" in body["error"]
    assert free.get("/symbols/BTC/USDT").status_code == 200


@pytest.mark.parametrize(
    ("plan", "types", "signals"),
    [("free", {"fvg"}, 0), ("pro", set(TYPES), 25), ("premium", set(TYPES), 30)],
)
def test_chart_data_carries_only_the_zone_types_and_signals_of_the_plan(
    app: Flask, market: list[int], plan: str, types: set[str], signals: int
) -> None:
    client = client_for(app, plan)
    zones = client.get("/api/chart/zones?symbol=BTC/USDT&timeframe=1h&limit=2000").get_json()
    assert zones["success"] is True
    assert {zone["pattern_type"] for zone in zones["data"]} == types
    assert len(zones["data"]) == ZONES * len(types) // 3
    levels = client.get("/api/chart/signals?symbol=BTC/USDT&limit=50").get_json()
    # BTC has every other signal: 30 in all, 25 of them among the newest 50 (Pro).
    assert len(levels["data"]) == signals


def test_a_list_rendered_for_premium_is_never_served_to_pro(app: Flask, market: list[int]) -> None:
    premium, pro = client_for(app, "premium"), client_for(app, "pro")
    assert _pattern_rows(premium) == 200  # rendered and cached for Premium first
    assert _pattern_rows(pro) == 100
    assert len(_signal_ids(premium)) == SIGNALS
    assert len(_signal_ids(pro)) == 50
