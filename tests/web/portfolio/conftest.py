"""Portfolio page fixtures: a signed-in Pro trader with a seeded portfolio, and a rival."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.builders.portfolio_web import Trader, make_trader
from tests.web.accounts_helpers import make_user, sign_in


def _signed_in(app: Flask, email: str, plan: str) -> Trader:
    person = make_user(app, email, plan=plan)
    client = app.test_client()
    assert sign_in(client, person).status_code == 302
    return make_trader(app, client, person.id)


@pytest.fixture
def pro(app: Flask) -> Trader:
    return _signed_in(app, "pro-trader@example.com", "pro")


@pytest.fixture
def rival(app: Flask) -> Trader:
    """Another owner (Premium) with a portfolio of their own."""
    return _signed_in(app, "rival@example.com", "premium")
