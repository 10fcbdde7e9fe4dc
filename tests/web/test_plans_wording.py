"""PLANS_ENABLED=false: no page mentions plans, tiers or upgrades (a one-person install has
none); with plans on, the same pages do show them, so the check can fail."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cryptolens.config import Settings
from cryptolens.extensions import db
from cryptolens.services.accounts import policy
from tests.web.accounts_helpers import post_form, signed_in_client
from tests.web.seeding import add_pattern, add_signal, add_symbol

PLAN_WORDS = re.compile(r"\b(Free|Pro|Premium|[Uu]pgrade\w*|[Pp]lans?|[Tt]iers?)\b")
PAGES = (
    "/",
    "/patterns",
    "/signals",
    "/signals/{signal}",
    "/stats",
    "/symbols/BTC/USDT",
    "/symbols/ETH/USDT",
    "/account/",
    "/account/notifications",
    "/account/notifications/history",
    "/portfolio",
    "/portfolio/trades/new?signal={signal}",
    "/backtests",
)
ADMIN_PAGES = ("/admin/users", "/admin/broadcast", "/admin/settings", "/admin/jobs")
#: What a signed-out visitor reads: the landing page and the legal pages.
PUBLIC_PAGES = ("/", "/terms", "/privacy")


@pytest.fixture
def settings(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    """Plans off unless a test asks for them (``indirect`` parameter); the process-wide
    policy switch is put back afterwards."""
    yield settings.model_copy(update={"plans_enabled": getattr(request, "param", False)})
    policy.configure(plans_enabled=True)


def _market(app: Flask) -> int:
    with app.app_context():
        btc = add_symbol(db.session, "BTC/USDT")
        add_symbol(db.session, "ETH/USDT")
        zone = add_pattern(db.session, symbol_id=btc, pattern_type="order_block")
        signal_id = add_signal(db.session, symbol_id=btc, patterns=(zone,)).id
        db.session.commit()
    return signal_id


def _words(client: FlaskClient, path: str) -> list[str]:
    answer = client.get(path)
    assert answer.status_code == 200, path
    text = re.sub(r"<[^>]+>", " ", answer.text)  # what a reader sees, not class names
    return PLAN_WORDS.findall(text)


def test_without_plans_no_page_speaks_of_plans_tiers_or_upgrades(app: Flask) -> None:
    signal_id = _market(app)
    free = signed_in_client(app, "free@example.com")
    admin = signed_in_client(app, "admin@example.com", admin=True)
    found = {path: _words(free, path.format(signal=signal_id)) for path in PAGES}
    found |= {path: _words(admin, path) for path in ADMIN_PAGES}
    found |= {f"signed out {path}": _words(app.test_client(), path) for path in PUBLIC_PAGES}
    assert {path: words for path, words in found.items() if words} == {}


@pytest.mark.parametrize("settings", [True], indirect=True, ids=["plans"])
def test_with_plans_the_same_check_finds_the_plan_names(app: Flask) -> None:
    free = signed_in_client(app, "free@example.com")
    admin = signed_in_client(app, "admin@example.com", admin=True)
    assert "Premium" in _words(free, "/account/")
    assert "Pro" in _words(admin, "/admin/users")
    assert "plans" in _words(app.test_client(), "/terms")


def test_without_plans_every_account_keeps_a_journal_without_limits(app: Flask) -> None:
    signal_id = _market(app)
    free = signed_in_client(app, "free@example.com")
    assert 'id="nav-portfolio"' in free.get("/").text
    assert 'id="take-trade"' in free.get(f"/signals/{signal_id}").text
    for name in ("One", "Two"):
        data = {"name": name, "quote_currency": "USD", "initial_balance": "100"}
        created = post_form(free, "/portfolio", data, form_path="/portfolio")
        assert created.status_code == 302


def test_without_plans_every_account_runs_backtests(app: Flask) -> None:
    free = signed_in_client(app, "free@example.com")
    assert 'id="nav-backtests"' in free.get("/").text
    assert free.get("/backtests").status_code == 200
