"""The signal alerts page in a real browser (Debian's chromium through Playwright): a Pro user
on a 390 px phone turns ntfy on against the local ntfy server, presses "Send test", reads
"Sent", and the server got exactly one message on that topic; the alert pages fit a phone and
a desktop without sideways scrolling; the chart labels times in the user's zone."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from cryptolens import create_app
from cryptolens.db import migrate
from cryptolens.extensions import db
from tests.builders.browser import CHROMIUM, DESKTOP, PHONE, launch, shot, signed_in_tab, widths
from tests.builders.notify_servers import NtfyServer
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Person, make_user
from tests.web.seeding import seed_btc_demo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Person]]]:
    """A live server on a migrated SQLite file with a week of BTC candles and a verified Pro
    user and an admin; yields its base URL and the users."""
    folder = tmp_path_factory.mktemp("alerts-browser")
    settings = make_settings(
        database_url=f"sqlite:///{folder / 'alerts.sqlite'}",
        instance_dir=folder,
        timeframes=("1h", "4h"),
        base_timeframe="1h",
    )
    app: Flask = create_app(settings)
    with app.app_context():
        migrate.upgrade(db.engine)
        seed_btc_demo(db.session, hours=200)
        db.session.commit()
    users = {
        "pro": make_user(app, "pro-phone@example.com", plan="pro"),
        "admin": make_user(app, "admin@example.com", admin=True),
    }
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", users
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def ntfy() -> Iterator[NtfyServer]:
    """The local ntfy server, started before Playwright: its sync API keeps an asyncio loop
    running in this thread, and the server's start and stop drive their own loop here."""
    server = NtfyServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(live: tuple[str, dict[str, Person]], ntfy: NtfyServer) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


def test_a_pro_user_turns_ntfy_on_from_a_phone_and_the_test_arrives_once(
    browser: Any, live: tuple[str, dict[str, Person]], ntfy: NtfyServer
) -> None:
    base, users = live
    ntfy_server = ntfy
    tab, errors = signed_in_tab(browser, base, users["pro"], "/account/notifications")
    ntfy = tab.locator("#channel-ntfy")
    ntfy.locator("input[name='server']").fill(ntfy_server.url)
    ntfy.locator("input[name='topic']").fill("phone-alerts-1")
    with tab.expect_navigation():
        ntfy.locator("button[type='submit']:text('Turn on')").click()
    assert tab.locator("#channel-ntfy .channel-state").inner_text() == "on"
    with tab.expect_navigation():
        tab.locator("#channel-ntfy button.send-test").click()
    assert tab.locator("#channel-ntfy .test-result").inner_text() == "Sent"
    ntfy_server.wait_for(1)
    assert [m["topic"] for m in ntfy_server.messages()] == ["phone-alerts-1"]
    phone_width, desktop_width = widths(tab, "account-notifications")
    tab.context.close()
    assert phone_width <= PHONE["width"]
    assert desktop_width <= DESKTOP["width"]
    assert errors == []
    assert len(ntfy_server.requests) == 1


@pytest.mark.parametrize(
    ("who", "path"),
    [("pro", "/account/notifications/history"), ("admin", "/admin/broadcast")],
)
def test_alert_pages_fit_a_phone_and_a_desktop(
    browser: Any, live: tuple[str, dict[str, Person]], who: str, path: str
) -> None:
    base, users = live
    tab, errors = signed_in_tab(browser, base, users[who], path)
    phone_width, desktop_width = widths(tab, f"{who}{path.replace('/', '-')}")
    tab.context.close()
    assert phone_width <= PHONE["width"]
    assert desktop_width <= DESKTOP["width"]
    assert errors == []


def test_the_chart_draws_with_its_time_labels_in_the_users_zone(
    browser: Any, live: tuple[str, dict[str, Person]]
) -> None:
    """Labels are painted on the canvas: the check is that the zone reaches the chart and its
    formatters (which run on every paint, crosshair included) raise nothing."""
    base, users = live
    tab, errors = signed_in_tab(browser, base, users["pro"], "/account/")
    tab.select_option("select[name='timezone']", "Asia/Tokyo")
    with tab.expect_navigation():
        tab.click("form[action='/account/'] button[type='submit']")
    tab.goto(f"{base}/symbols/BTC/USDT?timeframe=1h")
    tab.wait_for_function("() => document.querySelector('#chart').dataset.state === 'ready'")
    assert tab.locator("#chart").get_attribute("data-timezone") == "Asia/Tokyo"
    box = tab.locator("#chart").bounding_box()
    tab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    shot(tab, "phone-chart-tokyo")
    footer = tab.locator("footer").inner_text()
    tab.context.close()
    assert "times in Asia/Tokyo" in footer
    assert errors == []
