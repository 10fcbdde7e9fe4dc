"""The OpenAPI document describes the portfolio bodies the way valid requests look (decimals as
exact text within what the database keeps, a trade with a signal or its own levels), so that
generated requests are mostly valid; the server still takes a JSON number and stays the
authority on what it refuses."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.builders.api import call, make_key
from tests.builders.portfolio_web import seed_portfolio
from tests.web.accounts_helpers import Person


def _schemas(app: Flask) -> dict[str, Any]:
    document = app.test_client().get("/api/v1/openapi.json").json
    assert document is not None
    found: dict[str, Any] = document["components"]["schemas"]
    return found


@pytest.mark.parametrize(
    ("text", "above_0", "at_least_0"),
    [
        ("64250.5", True, True),
        ("0.0000000001", True, True),
        ("999999999999999999.9999999999", True, True),
        ("0", False, True),
        ("0.0", False, True),
        ("0.00000000001", False, False),  # 11 places: more than the database keeps
        ("1000000000000000000", False, False),  # 10^18: too large to keep
        ("-1", False, False),
        ("1e5", False, False),
        ("007", False, False),
    ],
)
def test_decimals_are_documented_as_exact_text_within_what_the_database_keeps(
    app: Flask, text: str, above_0: bool, at_least_0: bool
) -> None:
    fill = _schemas(app)["FillBody"]["properties"]
    for name, expected in (("price", above_0), ("quantity", above_0), ("fee", at_least_0)):
        described = fill[name]
        assert described["type"] == "string"
        assert bool(re.search(described["pattern"], text)) is expected, (name, text)


def test_a_trade_is_documented_as_needing_a_signal_or_its_own_levels(app: Flask) -> None:
    trade = _schemas(app)["TradeBody"]
    assert trade["anyOf"] == [
        {"required": ["signal_id"]},
        {"required": ["symbol", "direction", "planned_stop"]},
    ]
    assert trade["required"] == ["fills"]


def test_json_numbers_are_still_accepted_where_the_document_shows_text(
    app: Flask, premium_user: Person
) -> None:
    key = make_key(app, premium_user.id)
    seeded = seed_portfolio(app, premium_user.id)
    fill = {"side": "entry", "at": "2025-03-03T09:00:00Z", "price": 100.5, "quantity": 2}
    body = {"symbol": "ETH/USDT", "direction": "long", "planned_stop": 95, "fills": [fill]}
    made = call(
        app.test_client(), "POST", f"/api/v1/portfolios/{seeded.portfolio}/trades", key, json=body
    )
    assert made.status_code == 201, made.json
    assert made.json is not None
    assert made.json["data"]["avg_entry"] == "100.5"
