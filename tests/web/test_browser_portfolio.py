"""The portfolio in a real browser (Debian's chromium through Playwright): a Pro user on a
390 px phone opens a signal, presses "Take this trade", saves the pre-filled form, adds an exit
fill that closes the trade, and the analytics page's equity curve draws its points; every page
on the way fits a phone and a desktop without sideways scrolling and raises no JavaScript or
Content-Security-Policy error."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from cryptolens import create_app
from cryptolens.db import migrate
from cryptolens.domain.plans import Plan
from cryptolens.extensions import db
from tests.builders.browser import BROWSER_MARKS, DESKTOP, PHONE, launch, signed_in_tab, widths
from tests.builders.portfolio import PortfolioOwner, add_portfolio
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import make_user
from tests.web.seeding import seed_btc_demo

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A live server on a migrated SQLite file with BTC candles and one signal, and a Pro user
    with an empty portfolio."""
    folder = tmp_path_factory.mktemp("portfolio-browser")
    settings = make_settings(
        database_url=f"sqlite:///{folder / 'portfolio.sqlite'}",
        instance_dir=folder,
        timeframes=("1h", "4h"),
        base_timeframe="1h",
    )
    app: Flask = create_app(settings)
    with app.app_context():
        migrate.upgrade(db.engine)
        signal_id = seed_btc_demo(db.session, hours=200)
        db.session.commit()
    pro = make_user(app, "pro-journal@example.com", plan="pro")
    with app.app_context():
        portfolio_id = add_portfolio(db.session, PortfolioOwner(pro.id, Plan.PRO), name="Main")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "base": f"http://127.0.0.1:{server.server_port}",
        "pro": pro,
        "signal": signal_id,
        "portfolio": portfolio_id,
    }
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(live: dict[str, Any]) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


def test_a_pro_user_takes_a_signal_closes_it_and_sees_it_on_the_equity_curve(
    browser: Any, live: dict[str, Any]
) -> None:
    base, signal_id = live["base"], live["signal"]
    tab, errors = signed_in_tab(browser, base, live["pro"], f"/signals/{signal_id}")
    seen = {"signal": widths(tab, "portfolio-signal")}
    with tab.expect_navigation():
        tab.click("#take-trade")
    assert tab.locator("input[name='signal_id']").input_value() == str(signal_id)
    assert tab.locator("input[name='symbol']").input_value() == "BTC/USDT"
    entry = float(tab.locator("input[name='fill_price']").first.input_value())
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    tab.locator("input[name='fill_at']").first.fill(an_hour_ago)
    tab.locator("input[name='fill_quantity']").first.fill("0.5")
    seen["form"] = widths(tab, "portfolio-new-trade")
    with tab.expect_navigation():
        tab.click("#save-trade")
    assert tab.locator("#trade-status").inner_text() == "open"
    assert tab.locator("#trade-signal").inner_text() == f"signal #{signal_id}"
    form = tab.locator("#fill-form")
    assert form.locator("select[name='side']").input_value() == "exit"
    form.locator("input[name='price']").fill(f"{entry * 1.03:.2f}")
    with tab.expect_navigation():
        form.locator("#add-fill").click()
    assert tab.locator("#trade-status").inner_text() == "closed"
    assert tab.locator("#r-multiple").inner_text().startswith("+")
    seen["trade"] = widths(tab, "portfolio-trade")
    tab.goto(f"{base}/portfolio/{live['portfolio']}/analytics")
    tab.wait_for_function("() => document.querySelector('#equity-chart').dataset.state === 'ready'")
    chart = tab.locator("#equity-chart")
    drawn = int(chart.get_attribute("data-drawn") or 0)
    points = json.loads(chart.get_attribute("data-points") or "[]")
    assert tab.locator("#equity-chart canvas").count() > 0
    seen["analytics"] = widths(tab, "portfolio-analytics")
    tab.goto(f"{base}/portfolio/{live['portfolio']}")
    seen["portfolio"] = widths(tab, "portfolio-detail")
    tab.context.close()
    assert drawn == len(points) == 2  # the initial balance, then the close
    assert points[1]["value"] > points[0]["value"]
    assert {name: w for name, w in seen.items() if w[0] > PHONE["width"]} == {}
    assert {name: w for name, w in seen.items() if w[1] > DESKTOP["width"]} == {}
    assert errors == []
