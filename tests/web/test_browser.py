"""The pages in a real browser: Debian's chromium driven by Playwright against a live server
seeded with real BTC/USD candles and the zones the detectors find in them.

Every test signs in through the real login form (with its CSRF token) and fails on any
JavaScript error or console error, which is where Content-Security-Policy violations show."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.serving import make_server

from cryptolens import create_app
from cryptolens.db import migrate
from cryptolens.db.models import Pattern, Setting, Signal
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.extensions import db
from tests.builders.browser import BROWSER_MARKS, CHROMIUM, SCREENSHOTS, widths
from tests.builders.portfolio_web import seed_portfolio
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Person, make_user
from tests.web.seeding import add_pattern, add_signal, add_symbol, demo_candles, seed_btc_demo

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("browser")
    settings = make_settings(
        database_url=f"sqlite:///{folder / 'browser.sqlite'}",
        instance_dir=folder,
        timeframes=("1h", "4h"),
        base_timeframe="1h",
        exchange_id="binance",
    )
    app: Flask = create_app(settings)
    with app.app_context():
        migrate.upgrade(db.engine)
        signal_id = seed_btc_demo(db.session, hours=2000)
        symbol_id = db.session.get(Signal, signal_id).symbol_id  # type: ignore[union-attr]
        # Zone-quality probabilities on the seeded zones: the Hold % column and chart labels.
        db.session.execute(
            update(Pattern).values(
                quality_probability=0.3 + 0.5 * Pattern.strength,
                quality_model_version="20260101T000000Z",
            )
        )
        for outcome, r in (("tp2", 2.0), ("stop", -1.0), ("tp1", 1.0)):
            add_signal(db.session, symbol_id=symbol_id, outcome=outcome, r_multiple=r)
        # An old signal that expired unfilled, 1,500 hours before the newest candle.
        hourly = demo_candles(2000)
        then = int(hourly.open_time[-1500])
        price = float(hourly.close[-1500])
        old = add_signal(
            db.session,
            symbol_id=symbol_id,
            entry=price,
            stop=price * 0.97,
            target_1=price * 1.03,
            target_2=price * 1.06,
            target_3=price * 1.09,
            created_at=then + HOUR_MS,
            status="expired",
            outcome="unfilled",
        )
        clustered = _clustered_signal(symbol_id, int(hourly.open_time[-30]), price)
        eth = add_symbol(db.session, "ETH/USDT")
        add_pattern(db.session, symbol_id=eth, pattern_type="order_block")
        # Admin pages with unbroken long text: a 3,000-character setting (the form takes up
        # to 10,000) once made /admin/settings 2,436 px wide.
        db.session.add(Setting(key="notes.long", value="x" * 3000))
        db.session.commit()
        app.config["SEEDED"] = {
            "signal": signal_id,
            "old_signal": old.id,
            "old_time": then,
            "clustered": clustered,
        }
    yield app
    with app.app_context():
        db.engine.dispose()


def _clustered_signal(symbol_id: int, around: int, price: float) -> int:
    """A signal of three zones: a 1h and a 4h sweep that are one event, and a 1h gap."""
    day = around - around % (24 * HOUR_MS)
    zones = [
        add_pattern(db.session, symbol_id=symbol_id, timeframe=tf, pattern_type=kind,
                    zone_low=price * low, zone_high=price * high, formed_at=day + hours * HOUR_MS)
        for tf, kind, low, high, hours in (
            ("1h", "liquidity_sweep", 0.99, 1.0, 3),
            ("4h", "liquidity_sweep", 0.985, 0.995, 4),
            ("1h", "fvg", 0.97, 0.975, 9),
        )
    ]  # fmt: skip
    return add_signal(
        db.session, symbol_id=symbol_id, patterns=tuple(zones), confluence=2, entry=price
    ).id


@pytest.fixture(scope="module")
def users(live_app: Flask) -> dict[str, Person]:
    made = {
        "premium": make_user(live_app, "premium@example.com", plan="premium"),
        "free": make_user(live_app, "free@example.com"),
        "admin": make_user(live_app, "admin@example.com", admin=True),
        "unverified": make_user(live_app, "new@example.com", verified=False),
        "twofactor": make_user(live_app, "otp@example.com"),
        "long": make_user(live_app, f"{'a' * 60}@{'long-domain-name.' * 6}example.com"),
    }
    # A portfolio with a long unbroken name (the form takes 100 characters) for its pages.
    seeded = seed_portfolio(live_app, made["premium"].id, name="Swing" + "x" * 95)
    live_app.config["SEEDED"]["portfolio"] = seeded.portfolio
    return made


@pytest.fixture(scope="module")
def live_server(live_app: Flask, users: dict[str, Person]) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser(live_server: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def _console_error(errors: list[str], message: Any) -> None:
    if message.type == "error":
        errors.append(message.text)


@pytest.fixture
def anonymous_page(browser: Any) -> Iterator[Any]:
    """A fresh browser tab; any JavaScript or console error (a CSP violation is one) fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: _console_error(errors, message))
    yield opened
    context.close()
    assert errors == [], f"JavaScript or console errors (CSP violations among them): {errors}"


def sign_in_with_the_form(page: Any, live_server: str, user: Person, then: str) -> None:
    """Sign in as a person would: the login form (its CSRF token included), then ``then``."""
    page.goto(f"{live_server}/auth/login?next={then}")
    page.fill("input[name='email']", user.email)
    page.fill("input[name='password']", user.password)
    page.click("form button[type='submit']")
    page.wait_for_url(f"{live_server}{then}")


@pytest.fixture
def page(anonymous_page: Any, live_server: str, users: dict[str, Person]) -> Any:
    """A tab signed in as a Premium user, on the dashboard."""
    sign_in_with_the_form(anonymous_page, live_server, users["premium"], "/")
    return anonymous_page


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


#: Canvas pixels that differ from the chart background, summed over the chart's canvases.
PAINTED_PIXELS = """
() => {
  let painted = 0;
  for (const canvas of document.querySelectorAll('#chart canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      const background = data[i] === 15 && data[i + 1] === 18 && data[i + 2] === 23;
      if (data[i + 3] !== 0 && !background) painted += 1;
    }
  }
  return painted;
}
"""


def test_symbol_chart_draws_candles_and_zones_then_switches_timeframe(
    live_server: str, page: Any
) -> None:
    answer = page.goto(f"{live_server}/symbols/BTC/USDT?timeframe=1h")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy  # the chart's code is all in static files
    page.wait_for_function(
        "() => document.querySelector('#chart').dataset.state === 'ready'"
        " && Number(document.querySelector('#chart').dataset.zonesDrawn) > 0"
    )
    chart = page.locator("#chart")
    assert chart.get_attribute("data-timeframe") == "1h"
    assert int(chart.get_attribute("data-candles") or 0) == 1000
    assert int(chart.get_attribute("data-zones-drawn") or 0) > 0
    assert int(chart.get_attribute("data-price-lines") or 0) == 5
    assert page.evaluate(PAINTED_PIXELS) > 10_000
    assert page.locator("#chart a[href*='tradingview']").count() >= 1
    first_hourly = chart.get_attribute("data-first-time")
    _shot(page, "symbol-1h")

    page.click(".tf-switcher button[data-timeframe='4h']")
    page.wait_for_function(
        "() => document.querySelector('#chart').dataset.timeframe === '4h'"
        " && document.querySelector('#chart').dataset.state === 'ready'"
    )
    assert int(chart.get_attribute("data-candles") or 0) == 500  # 2000 hours in 4h buckets
    assert chart.get_attribute("data-first-time") != first_hourly
    assert "timeframe=4h" in page.url
    assert page.locator(".tf-switcher button.active").inner_text() == "4h"
    _shot(page, "symbol-4h")


def test_matrix_cell_leads_to_the_patterns_of_that_symbol_and_timeframe(
    live_server: str, page: Any
) -> None:
    page.goto(f"{live_server}/")
    cell = page.locator("#pattern-matrix a.cell-link[data-symbol='BTC/USDT'][data-timeframe='1h']")
    assert cell.locator(".chip").count() > 0
    _shot(page, "dashboard")

    cell.click()
    page.wait_for_url("**/patterns?**")
    assert "symbol=BTC%2FUSDT" in page.url or "symbol=BTC/USDT" in page.url
    assert "timeframe=1h" in page.url
    assert "status=open" in page.url
    rows = page.locator("tr.pattern-row")
    assert rows.count() > 0
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.timeframe)")) == {"1h"}
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.status)")) <= {
        "active",
        "touched",
    }
    _shot(page, "patterns")


def test_stats_draw_expectancy_bars_and_signal_page_shows_levels(
    live_server: str, page: Any
) -> None:
    page.goto(f"{live_server}/stats")
    bars = page.locator("#record-overall .rbar.pos")
    assert bars.count() == 1
    assert bars.evaluate("bar => bar.getBoundingClientRect().width") > 10
    _shot(page, "stats")

    page.goto(f"{live_server}/signals")
    page.locator("#signals a[href^='/signals/']").first.click()
    page.wait_for_url("**/signals/*")
    assert page.locator("#levels tr").count() == 6
    _shot(page, "signal")


def test_signal_page_shows_which_zones_counted_as_one_event_at_both_widths(
    live_server: str, page: Any, live_app: Flask
) -> None:
    page.goto(f"{live_server}/signals/{live_app.config['SEEDED']['clustered']}")
    events = page.locator("#signal-zones tbody.event")
    assert events.count() == 2
    assert events.nth(0).get_attribute("data-zones") == "2"
    assert "counted as one" in events.nth(0).locator("tr.event-head").inner_text()
    phone, desktop = widths(page, "signal-events")
    assert phone <= 390
    assert desktop <= 1280


def test_signing_in_leads_back_to_the_chart_asked_for(
    live_server: str, anonymous_page: Any, users: dict[str, Person]
) -> None:
    page = anonymous_page
    page.goto(f"{live_server}/symbols/BTC/USDT")
    assert "/auth/login" in page.url  # signed out: sent to sign in first
    assert page.locator("input[name='csrf_token']").count() == 1
    page.fill("input[name='email']", users["premium"].email)
    page.fill("input[name='password']", users["premium"].password)
    page.click("form button[type='submit']")
    page.wait_for_url(f"{live_server}/symbols/BTC/USDT")
    page.wait_for_function("() => document.querySelector('#chart').dataset.state === 'ready'")


def test_free_user_sees_the_btc_chart_with_fvg_zones_and_no_signal_levels(
    live_server: str, anonymous_page: Any, users: dict[str, Person]
) -> None:
    page = anonymous_page
    sign_in_with_the_form(page, live_server, users["free"], "/symbols/BTC/USDT")
    page.wait_for_function("() => document.querySelector('#chart').dataset.state === 'ready'")
    chart = page.locator("#chart")
    assert int(chart.get_attribute("data-zones-drawn") or 0) > 0
    assert chart.get_attribute("data-price-lines") == "0"
    zones = page.evaluate(
        "() => fetch('/api/chart/zones?symbol=BTC/USDT&timeframe=1h&limit=2000')"
        ".then(r => r.json())"
    )
    assert {zone["pattern_type"] for zone in zones["data"]} == {"fvg"}
    # Through the tab's cookies, not a navigation (whose 403 the console reports as an error).
    refused = page.context.request.get(f"{live_server}/symbols/ETH/USDT")
    assert refused.status == 403
    assert "ETH/USDT chart needs the Pro plan" in refused.text()


def test_chart_opened_for_an_old_finished_signal_moves_to_its_time_and_draws_it_as_history(
    live_server: str, page: Any, live_app: Flask
) -> None:
    seeded = live_app.config["SEEDED"]
    page.goto(f"{live_server}/symbols/BTC/USDT?timeframe=1h&signal={seeded['old_signal']}")
    page.wait_for_function(
        "() => document.querySelector('#chart').dataset.state === 'ready'"
        " && document.querySelector('#chart').dataset.visibleTo"
    )
    chart = page.locator("#chart")
    shown_from = float(chart.get_attribute("data-visible-from") or 0)
    shown_to = float(chart.get_attribute("data-visible-to") or 0)
    # The view is about a hundred candles around the signal, 1,500 hours before the newest.
    assert shown_from <= seeded["old_time"] <= shown_to
    assert shown_to - shown_from < 200 * HOUR_MS
    assert chart.get_attribute("data-signal-drawn") == "historical"
    assert chart.get_attribute("data-price-lines") == "5"
    assert "is finished (unfilled)" in page.locator("#chart-status").inner_text()
    _shot(page, "symbol-old-signal")


def test_chart_without_a_signal_asked_for_draws_the_newest_live_signal(
    live_server: str, page: Any
) -> None:
    page.goto(f"{live_server}/symbols/BTC/USDT?timeframe=1h")
    page.wait_for_function("() => document.querySelector('#chart').dataset.state === 'ready'")
    assert page.locator("#chart").get_attribute("data-signal-drawn") == "live"


#: Every page as (who, path, status); {signal} and {old_signal} are seeded signals' ids.
PAGES = [
    ("anonymous", "/auth/login", 200),
    ("anonymous", "/auth/register", 200),
    ("anonymous", "/auth/forgot", 200),
    ("anonymous", "/auth/reset/not-a-real-token", 200),
    ("unverified", "/auth/verify-pending", 200),
    ("premium", "/", 200),
    ("premium", "/patterns", 200),
    ("premium", "/signals", 200),
    ("premium", "/signals/{signal}", 200),
    ("premium", "/symbols/BTC/USDT", 200),
    ("premium", "/symbols/BTC/USDT?signal={old_signal}", 200),
    ("premium", "/stats", 200),
    ("premium", "/account/", 200),
    ("premium", "/account/two-factor", 200),
    ("premium", "/no-such-page", 404),
    ("free", "/symbols/ETH/USDT", 403),
    ("free", "/", 200),
    ("premium", "/account/notifications", 200),
    ("premium", "/account/notifications/history", 200),
    ("premium", "/account/api-keys", 200),
    ("premium", "/portfolio", 200),
    ("premium", "/portfolio/{portfolio}/edit", 200),
    ("premium", "/api/docs", 200),
    ("admin", "/admin/users", 200),
    ("admin", "/admin/settings", 200),
    ("admin", "/admin/broadcast", 200),
    ("admin", "/admin/jobs", 200),
    ("admin", "/account/", 200),
]


def _slug(who: str, path: str) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in path.strip("/{}")) or "home"
    return f"{who}-{cleaned}"


@pytest.fixture(scope="module")
def contexts(browser: Any, live_server: str, users: dict[str, Person]) -> Iterator[Any]:
    """One browser context per role, signed in once (sign-in is rate limited per address)."""
    made: dict[str, Any] = {}

    def context_for(who: str) -> Any:
        if who not in made:
            made[who] = browser.new_context(viewport={"width": 390, "height": 844})
            if who != "anonymous":
                tab = made[who].new_page()
                tab.goto(f"{live_server}/auth/login")
                tab.fill("input[name='email']", users[who].email)
                tab.fill("input[name='password']", users[who].password)
                with tab.expect_navigation():
                    tab.click("form button[type='submit']")
                tab.close()
        return made[who]

    yield context_for
    for context in made.values():
        context.close()


@pytest.mark.parametrize(("who", "path", "status"), PAGES, ids=[_slug(w, p) for w, p, _ in PAGES])
def test_page_fits_a_390px_phone_without_sideways_scrolling_and_renders_on_a_desktop(
    contexts: Any, live_server: str, live_app: Flask, who: str, path: str, status: int
) -> None:
    tab = contexts(who).new_page()
    tab.set_viewport_size({"width": 390, "height": 844})
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: _console_error(errors, message))
    answer = tab.goto(f"{live_server}{path.format(**live_app.config['SEEDED'])}")
    assert answer.status == status
    if tab.locator("#chart").count():
        tab.wait_for_function(
            "() => ['ready', 'error'].includes(document.querySelector('#chart').dataset.state)"
        )
    name = _slug(who, path)
    width = tab.evaluate("() => document.scrollingElement.scrollWidth")
    _shot(tab, f"phone-{name}")
    tab.set_viewport_size({"width": 1280, "height": 900})
    desktop_width = tab.evaluate("() => document.scrollingElement.scrollWidth")
    _shot(tab, f"desktop-{name}")
    tab.close()
    assert width <= 390, f"{path} is {width}px wide on a 390px phone"
    assert desktop_width <= 1280
    # An error page's own status is reported by the console; anything else is a real error.
    expected = f"status of {status}"
    assert [e for e in errors if status == 200 or expected not in e] == []


PHONE_WIDTH = "() => document.scrollingElement.scrollWidth"


def test_two_factor_setup_backup_codes_and_challenge_pages_fit_a_phone(
    browser: Any, live_server: str, users: dict[str, Person]
) -> None:
    pyotp = pytest.importorskip("pyotp")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    tab = context.new_page()
    sign_in_with_the_form(tab, live_server, users["twofactor"], "/account/two-factor")
    widths = {}
    with tab.expect_navigation():
        tab.click("form button[type='submit']:text('Set up')")
    widths["setup"] = tab.evaluate(PHONE_WIDTH)
    _shot(tab, "phone-two-factor-setup")
    secret = tab.locator("code.secret").inner_text()
    tab.fill("input[name='code']", pyotp.TOTP(secret).now())
    with tab.expect_navigation():
        tab.click("form button[type='submit']:text('Turn on')")
    assert tab.locator("li code").count() == 10  # the backup codes
    widths["backup codes"] = tab.evaluate(PHONE_WIDTH)
    _shot(tab, "phone-two-factor-backup-codes")
    with tab.expect_navigation():
        tab.click("form button[type='submit']:text('Sign out')")
    tab.goto(f"{live_server}/auth/login")
    tab.fill("input[name='email']", users["twofactor"].email)
    tab.fill("input[name='password']", users["twofactor"].password)
    with tab.expect_navigation():
        tab.click("form button[type='submit']")
    assert "/auth/two-factor" in tab.url
    widths["challenge"] = tab.evaluate(PHONE_WIDTH)
    _shot(tab, "phone-two-factor-challenge")
    context.close()
    assert all(width <= 390 for width in widths.values()), widths
