"""Buying a plan in a real browser (Debian's chromium through Playwright): a visitor on a
390 px phone opens the landing page, goes to pricing, registers, confirms the email, signs in,
presses "Card" for Pro monthly, pays on the local LemonSqueezy checkout page (``#pay``: the
signed webhooks go back to the app), lands on the return page and the billing page says Pro.
The landing, pricing, return and billing pages fit a phone and a desktop without sideways
scrolling (screenshots in build/screenshots), and so do the admin payment pages that list
the purchase."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.models import Symbol
from cryptolens.domain.plans import Plan
from cryptolens.extensions import db
from cryptolens.services.accounts.subscriptions import plan_status
from tests.builders.browser import (
    BROWSER_MARKS,
    DESKTOP,
    PHONE,
    launch,
    public_app,
    signed_in_tab,
    widths,
)
from tests.builders.payment_servers import LemonSqueezyServer, NowPaymentsServer, with_payments
from tests.web.accounts_helpers import PASSWORD, Mailbox, link_in, make_user
from tests.web.seeding import add_signal, seed_btc_demo

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
BUYER = "buyer@example.com"


@pytest.fixture
def live(
    settings: Settings,
    migrated_engine: Engine,
    ls_server: LemonSqueezyServer,
    np_server: NowPaymentsServer,
) -> Iterator[tuple[Flask, str]]:
    """The app with both providers on, served at the address it names as its public URL (the
    provider sends the buyer back there), with BTC candles, zones and a few closed signals for
    the landing page; the LemonSqueezy server posts its webhooks to it."""
    paying = with_payments(settings, ls_server, np_server)
    with public_app(paying, migrated_engine) as (app, base):
        with app.app_context():
            seed_btc_demo(db.session, hours=300)
            btc = db.session.scalars(select(Symbol.id)).one()
            for r in (2.0, -1.0, 1.5, -1.0, 3.0):
                add_signal(db.session, symbol_id=btc, status="closed", outcome="tp1", r_multiple=r)
            db.session.commit()
        ls_server.webhook_url = f"{base}/payments/webhooks/lemonsqueezy"
        yield app, base


def _fits(tab: Any, name: str) -> None:
    phone, desktop = widths(tab, name)
    assert phone <= PHONE["width"], f"{name}: {phone}px wide on a {PHONE['width']}px phone"
    assert desktop <= DESKTOP["width"], f"{name}: {desktop}px wide on a desktop"


def test_a_new_visitor_buys_pro_from_the_pricing_page_through_the_local_checkout(
    live: tuple[Flask, str], mailbox: Mailbox, ls_server: LemonSqueezyServer
) -> None:
    app, base = live
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        tab = browser.new_context(viewport=PHONE).new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        # Ours only: the local checkout page (another origin) has no favicon.
        tab.on(
            "console",
            lambda m: (
                m.type == "error"
                and m.location.get("url", "").startswith(base)
                and errors.append(f"{m.location.get('url')}: {m.text}")
            ),
        )

        tab.goto(f"{base}/")
        assert tab.locator("svg.sample-chart rect.zone").count() >= 1
        assert tab.locator("#record-trades").inner_text() == "5"
        assert tab.locator("#record-win-rate").inner_text() == "60.0%"
        _fits(tab, "landing")
        tab.click("#landing-pricing")
        tab.wait_for_url(f"{base}/pricing")
        assert tab.locator(".plan-card").count() == 3
        _fits(tab, "pricing-signed-out")

        tab.click("#register-pro")
        tab.wait_for_url(f"{base}/auth/register")
        tab.fill("input[name='email']", BUYER)
        tab.fill("input[name='password']", PASSWORD)
        tab.click("main form button[type='submit']")
        tab.wait_for_selector("text=Check your inbox")
        tab.goto(base + link_in(mailbox.wait_for(BUYER)))

        tab.goto(f"{base}/pricing")
        tab.click("text=or sign in")
        tab.fill("input[name='email']", BUYER)
        tab.fill("input[name='password']", PASSWORD)
        tab.click("main form button[type='submit']")
        tab.wait_for_url(f"{base}/pricing")
        _fits(tab, "pricing-signed-in")

        tab.click("#buy-pro-monthly-lemonsqueezy")
        tab.wait_for_url(f"{ls_server.url}/**")
        tab.click("#pay")
        tab.wait_for_url(f"{base}/payments/return**")
        assert tab.locator("#checkout-outcome").get_attribute("data-outcome") == "success"
        assert "Pro" in tab.locator("#plan-now").inner_text()
        _fits(tab, "checkout-return")

        tab.goto(f"{base}/account/billing")
        assert tab.locator("#billing-plan").get_attribute("data-plan") == "pro"
        assert tab.locator("#payments tbody tr").count() == 1
        _fits(tab, "billing-pro")

        # The administrator sees the payment and the subscription it bought.
        admin = make_user(app, "root@example.com", admin=True)
        desk, admin_errors = signed_in_tab(browser, base, admin, "/admin/payments")
        assert desk.locator("#admin-payments tbody tr").count() == 1
        assert BUYER in desk.locator("#admin-payments").inner_text()
        _fits(desk, "admin-payments")
        desk.goto(f"{base}/admin/subscriptions?email=buyer")
        assert desk.locator("#admin-subscriptions tbody tr").count() == 1
        _fits(desk, "admin-subscriptions")
        errors += admin_errors
        browser.close()
    assert errors == []
    with app.app_context():
        user_id = db.session.execute(
            db.text("SELECT id FROM users WHERE email = :e"), {"e": BUYER}
        ).scalar_one()
        assert plan_status(db.session(), user_id=user_id, now=utcnow()).plan is Plan.PRO
