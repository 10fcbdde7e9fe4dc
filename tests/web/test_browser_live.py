"""The live pages and the trader's chart in a real browser (issue 19, items 3 and 4).

The app runs on a threaded server with the real BTC/USD demo history; the stream comes from
tests/builders/stream_double.py, a test double of the gateway speaking the stream contract
on another loopback port (another origin: the CSP's connect-src and CORS with credentials
are exercised). Every tab fails on any JavaScript or console error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from cryptolens import create_app
from cryptolens.db import migrate
from cryptolens.db.models import NotificationPreference
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.extensions import db
from tests.builders.browser import (
    BROWSER_MARKS,
    DESKTOP,
    launch,
    serving,
    shot,
    signed_in_tab,
    widths,
)
from tests.builders.settings import make_settings
from tests.builders.stream_double import StreamDouble
from tests.web.accounts_helpers import make_user
from tests.web.seeding import demo_candles, seed_btc_demo

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")

DATA = "document.querySelector('#chart').dataset"
CHART = f"() => {DATA}"
READY = "() => document.querySelector('#chart').dataset.state === 'ready'"


@pytest.fixture(scope="module")
def double() -> Iterator[StreamDouble]:
    started = StreamDouble().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, double: StreamDouble
) -> Iterator[tuple[Flask, str]]:
    """The app (demo history, a Premium and a Free user) served on loopback; its address."""
    folder = tmp_path_factory.mktemp("live")
    settings = make_settings(
        database_url=f"sqlite:///{folder / 'live.sqlite'}",
        instance_dir=folder,
        timeframes=("1h", "4h"),
        base_timeframe="1h",
        exchange_id="binance",
        stream_pages=True,
        stream_public_url=double.url,
    )
    app = create_app(settings)
    with app.app_context():
        migrate.upgrade(db.engine)
        app.config["SIGNAL"] = seed_btc_demo(db.session, hours=2000)
        db.session.commit()
    app.config["USERS"] = {
        "premium": make_user(app, "premium@example.com", plan="premium"),
        "picky": make_user(app, "picky@example.com", plan="premium"),
    }
    with app.app_context():
        # Alerts only for bullish ETH/USDT signals with a confluence of 3 or more.
        db.session.add(
            NotificationPreference(
                user_id=app.config["USERS"]["picky"].id,
                directions=["bullish"],
                min_confluence=3,
                symbols=["ETH/USDT"],
            )
        )
        db.session.commit()
    with serving(app) as base:
        double.origin = base
        yield app, base
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(site: tuple[Flask, str]) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def contexts(browser: Any, site: tuple[Flask, str]) -> Iterator[dict[str, Any]]:
    """A phone-sized browser context per user, signed in once through the login form."""
    app, base = site
    made = {}
    for who, person in app.config["USERS"].items():
        first, _ = signed_in_tab(browser, base, person, "/")
        first.close()
        made[who] = first.context
    yield made
    for context in made.values():
        context.close()


def open_tab(
    contexts: dict[str, Any], base: str, path: str, who: str = "premium"
) -> tuple[Any, list[str]]:
    """A new tab of ``who`` on ``path``; the list collecting its JavaScript and console errors."""
    page = contexts[who].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(f"{base}{path}")
    return page, errors


@pytest.fixture
def tab(contexts: dict[str, Any], site: tuple[Flask, str]) -> Iterator[tuple[Any, list[str]]]:
    """A tab of the Premium user on the 1h BTC/USDT chart, loaded; and its errors."""
    page, errors = open_tab(contexts, site[1], "/symbols/BTC/USDT?timeframe=1h")
    page.wait_for_function(READY)
    yield page, errors
    page.close()


def chart(page: Any) -> dict[str, str]:
    found: dict[str, str] = page.evaluate(CHART)
    return found


def test_chart_opens_on_the_recent_candles_with_markers_where_signals_fired(
    tab: tuple[Any, list[str]],
) -> None:
    page, errors = tab
    shown = chart(page)
    assert int(shown["candles"]) == 1000
    visible_from, visible_to = float(shown["visibleFrom"]), float(shown["visibleTo"])
    last = int(shown["lastTime"])
    # The newest candle is in view, and far fewer than the thousand loaded.
    assert visible_from < last <= visible_to
    assert (visible_to - visible_from) / HOUR_MS < 150
    assert int(shown["markers"]) >= 1
    assert errors == []


def _drag_right(page: Any, times: int) -> None:
    """Pan the chart towards older candles as a reader does: drag it to the right."""
    box = page.locator("#chart").bounding_box()
    y = box["y"] + box["height"] / 2
    for _ in range(times):
        page.mouse.move(box["x"] + 40, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] - 60, y, steps=8)
        page.mouse.up()


def test_scrolling_left_loads_the_older_candles_in_front_keeping_the_view(
    tab: tuple[Any, list[str]],
) -> None:
    page, errors = tab
    page.set_viewport_size(DESKTOP)
    first = int(chart(page)["firstTime"])
    for _ in range(40):
        _drag_right(page, 1)
        if chart(page).get("olderState"):
            break
    page.wait_for_function(
        "() => ['idle', 'done'].includes(document.querySelector('#chart').dataset.olderState)"
    )
    shown = chart(page)
    # 2,000 hours stored: the first 1,000 shown, the other 1,000 joined in front.
    assert int(shown["candles"]) == 2000
    assert int(shown["firstTime"]) == first - 1000 * HOUR_MS
    # The view did not jump: it still ends about where the drags left it, near the old start.
    assert float(shown["visibleTo"]) < first + 400 * HOUR_MS
    _drag_right(page, 20)
    page.wait_for_function("() => document.querySelector('#chart').dataset.olderState === 'done'")
    assert int(chart(page)["candles"]) == 2000
    assert errors == []


def test_zone_type_toggles_hide_zones_and_are_remembered(tab: tuple[Any, list[str]]) -> None:
    page, errors = tab
    every = int(chart(page)["zonesShown"])
    types = page.evaluate(
        "() => fetch('/api/chart/zones?symbol=BTC/USDT&timeframe=1h&limit=2000&start='"
        " + document.querySelector('#chart').dataset.firstTime)"
        ".then(r => r.json()).then(b => b.data.map(z => z.pattern_type))"
    )
    fvg = types.count("fvg")
    assert 0 < fvg < every
    page.uncheck("#zone-toggles input[data-type='fvg']")
    assert int(chart(page)["zonesShown"]) == every - fvg
    page.reload()
    page.wait_for_function(READY)
    assert not page.is_checked("#zone-toggles input[data-type='fvg']")
    assert int(chart(page)["zonesShown"]) == every - fvg
    page.check("#zone-toggles input[data-type='fvg']")
    assert int(chart(page)["zonesShown"]) == every
    assert page.evaluate("() => localStorage.getItem('cryptolens.chart.hiddenZoneTypes')") == "[]"
    assert errors == []


def _candle(
    shown: dict[str, str], *, hours_after: int, close: float, closed: bool
) -> dict[str, Any]:
    time = int(shown["lastTime"]) // 1000 + hours_after * 3600
    return {
        "symbol": "BTC/USDT",
        "timeframe": "1h",
        "time": time,
        "open": close * 0.99,
        "high": close * 1.01,
        "low": close * 0.98,
        "close": close,
        "volume": 12.5,
        "closed": closed,
    }


def _state(page: Any, state: str) -> None:
    page.wait_for_function(
        f"() => document.querySelector('#live-state').dataset.state === '{state}'", timeout=10_000
    )


def test_forming_candle_follows_price_events_and_a_closed_candle_replaces_it(
    tab: tuple[Any, list[str]], double: StreamDouble
) -> None:
    page, errors = tab
    stream = double.current("price:BTC/USDT:1h")
    assert {"signals", "zones:BTC/USDT", "candles:BTC/USDT:1h"} <= set(stream.channels)
    assert "session=" in (stream.cookie or "")  # withCredentials sent the cookie
    _state(page, "connected")
    shown = chart(page)
    close = float(shown["lastClose"]) * 1.004
    double.send(
        "price",
        _candle(shown, hours_after=0, close=close, closed=False),
        channel="price:BTC/USDT:1h",
    )
    page.wait_for_function(f"() => Number({DATA}.lastClose) === {close}")
    assert chart(page)["candles"] == "1000"  # the same candle moved
    double.send(
        "candle",
        _candle(shown, hours_after=0, close=close * 1.001, closed=True),
        channel="candles:BTC/USDT:1h",
    )
    page.wait_for_function(f"() => {DATA}.lastClosed === 'true'")
    assert float(chart(page)["lastClose"]) == pytest.approx(close * 1.001)
    double.send(
        "price",
        _candle(shown, hours_after=1, close=close, closed=False),
        channel="price:BTC/USDT:1h",
    )
    page.wait_for_function(f"() => {DATA}.candles === '1001'")
    assert int(chart(page)["lastTime"]) == int(shown["lastTime"]) + HOUR_MS
    # Another series' prices leave this chart alone.
    double.send(
        "price",
        {**_candle(shown, hours_after=2, close=1.0, closed=False), "timeframe": "4h"},
        channel="price:BTC/USDT:1h",
    )
    page.wait_for_timeout(300)
    assert chart(page)["candles"] == "1001"
    assert errors == []


def _zone(
    shown: dict[str, str], zone_id: int, change: str, kind: str = "order_block"
) -> dict[str, Any]:
    last = int(shown["lastTime"])
    close = float(shown["lastClose"])
    return {
        "id": zone_id,
        "symbol": "BTC/USDT",
        "timeframe": "1h",
        "type": kind,
        "direction": "bullish",
        "low": close * 0.97,
        "high": close * 0.98,
        "status": "active",
        "change": change,
        "candle_time": last - 2 * HOUR_MS,
        "formed_at": last,
    }


def _signal(signal_id: int, direction: str = "bullish", symbol: str = "BTC/USDT") -> dict[str, Any]:
    return {
        "id": signal_id,
        "symbol": symbol,
        "direction": direction,
        "timeframes": ["1h", "4h"],
        "confluence": 3,
        "entry": 64000.0,
        "stop": 62000.0,
        "targets": [66000.0, 68000.0, 70000.0],
        "created_at": 0,
        "url": f"/signals/{signal_id}",
    }


def test_new_zones_and_signals_appear_on_the_chart_and_a_toast_announces_the_signal(
    tab: tuple[Any, list[str]], double: StreamDouble
) -> None:
    page, errors = tab
    double.current("zones:BTC/USDT")
    shown = chart(page)
    zones, markers = int(shown["zones"]), int(shown["markers"])
    double.send("zone", _zone(shown, 900_001, "formed"), channel="zones:BTC/USDT")
    page.wait_for_function(f"() => Number({DATA}.zones) === {zones + 1}")
    double.send("zone", _zone(shown, 900_001, "touched"), channel="zones:BTC/USDT")
    page.wait_for_timeout(200)
    assert int(chart(page)["zones"]) == zones + 1  # the same zone, changed: not a new one
    signal = _signal(900_002) | {"created_at": int(shown["lastTime"])}
    double.send("signal", signal, channel="signals")
    page.wait_for_function(f"() => Number({DATA}.markers) === {markers + 1}")
    assert chart(page)["priceLines"] == "5"  # the new live signal's levels
    toast = page.locator("#toasts .toast[data-signal='900002']")
    toast.wait_for()
    assert "New bullish signal · BTC/USDT" in toast.inner_text()
    assert toast.locator("a").get_attribute("href") == "/signals/900002"
    phone, desktop = widths(page, "live-chart-toast")
    assert phone <= 390
    assert desktop <= 1280
    assert errors == []


def test_toasts_follow_the_users_alert_preferences_on_any_page(
    contexts: dict[str, Any], site: tuple[Flask, str], double: StreamDouble
) -> None:
    page, errors = open_tab(contexts, site[1], "/stats", who="picky")
    double.current("signals")
    _state(page, "connected")
    # Not wanted: bearish, another symbol, too little confluence; then one that is.
    double.send("signal", _signal(910_001, "bearish", "ETH/USDT"), channel="signals")
    double.send("signal", _signal(910_002, "bullish", "BTC/USDT"), channel="signals")
    double.send(
        "signal", _signal(910_003, "bullish", "ETH/USDT") | {"confluence": 2}, channel="signals"
    )
    double.send("signal", _signal(910_004, "bullish", "ETH/USDT"), channel="signals")
    page.locator("#toasts .toast[data-signal='910004']").wait_for()
    assert page.locator("#toasts .toast").count() == 1
    page.click("#toasts .toast-close")
    assert page.locator("#toasts .toast").count() == 0
    page.close()
    assert errors == []


def test_indicator_shows_reconnecting_and_offline_and_resumes_from_the_last_event(
    contexts: dict[str, Any], site: tuple[Flask, str], double: StreamDouble
) -> None:
    page, errors = open_tab(contexts, site[1], "/stats")
    first = double.current("signals")
    _state(page, "connected")
    assert page.locator("#live-state").get_attribute("title") == "Live updates: connected"
    last = double.send("signal", _signal(920_001, "bullish", "SOL/USDT"), channel="signals")
    page.locator("#toasts .toast[data-signal='920001']").wait_for()
    opened = len(double.opened)
    double.drop()
    # The browser reconnects by itself and says which event it saw last.
    again = double.wait_for_connection(opened + 1)
    assert again.channels == first.channels
    assert again.last_event_id == str(last)
    _state(page, "connected")
    # The gateway refuses (down behind nginx): offline, then back once it answers again.
    double.refusing = True
    double.drop()
    _state(page, "offline")
    shot(page, "phone-live-offline")
    double.refusing = False
    _state(page, "connected")
    page.close()
    # The refused attempts show in the console as failed requests; nothing else may.
    assert [e for e in errors if "503" not in e] == []


def test_dashboard_matrix_and_latest_signals_update_in_place(
    contexts: dict[str, Any], site: tuple[Flask, str], double: StreamDouble
) -> None:
    opened = len(double.opened)
    page, errors = open_tab(contexts, site[1], "/")
    double.current("zones:BTC/USDT")
    _state(page, "connected")
    # One stream with every channel the page's scripts asked for, not one per script.
    assert len(double.opened) == opened + 1
    cell = "#pattern-matrix a.cell-link[data-symbol='BTC/USDT'][data-timeframe='1h']"
    chip = f"{cell} .chip[data-type='order_block'][data-direction='bullish']"
    before = int(page.locator(chip).get_attribute("data-count") or 0)
    shown = {"lastTime": str(10**12), "lastClose": "100"}
    double.send("zone", _zone(shown, 930_001, "formed"), channel="zones:BTC/USDT")
    page.wait_for_function(
        f"() => document.querySelector(\"{chip}\").dataset.count === '{before + 1}'"
    )
    assert page.locator(chip).inner_text() == f"OB ▲{before + 1}"
    double.send("zone", _zone(shown, 930_001, "touched"), channel="zones:BTC/USDT")
    double.send("zone", _zone(shown, 930_001, "filled"), channel="zones:BTC/USDT")
    page.wait_for_function(f"() => document.querySelector(\"{chip}\").dataset.count === '{before}'")
    rows = page.locator("#latest-signals tbody tr")
    count = rows.count()
    double.send("signal", _signal(930_002) | {"created_at": 10**12}, channel="signals")
    page.wait_for_function(
        "() => document.querySelector('#latest-signals tbody tr').dataset.id === '930002'"
    )
    assert rows.count() == max(count, 1)
    first = rows.first.inner_text()
    assert "#930002" in first
    assert "BTC/USDT" in first
    assert "64,000.0" in first
    assert "pending" in first
    phone, desktop = widths(page, "live-dashboard")
    assert phone <= 390
    assert desktop <= 1280
    page.goto(f"{site[1]}/signals")
    double.current("signals")
    _state(page, "connected")
    double.send("signal", _signal(930_003, "bearish"), channel="signals")
    page.wait_for_function(
        "() => document.querySelector('#signals tbody tr').dataset.id === '930003'"
    )
    page.goto(f"{site[1]}/signals?direction=bullish")
    _state(page, "connected")
    double.send("signal", _signal(930_004, "bearish"), channel="signals")
    double.send("signal", _signal(930_005, "bullish"), channel="signals")
    page.wait_for_function(
        "() => document.querySelector('#signals tbody tr').dataset.id === '930005'"
    )
    assert page.locator("#signals tr[data-id='930004']").count() == 0
    page.close()
    assert errors == []


def test_switching_the_timeframe_follows_that_series_on_the_stream(
    tab: tuple[Any, list[str]], double: StreamDouble
) -> None:
    page, errors = tab
    double.current("price:BTC/USDT:1h")
    page.click(".tf-switcher button[data-timeframe='4h']")
    page.wait_for_function(f"() => {DATA}.timeframe === '4h' && {DATA}.state === 'ready'")
    stream = double.current("price:BTC/USDT:4h")
    assert "price:BTC/USDT:1h" not in stream.channels
    assert {"candles:BTC/USDT:4h", "zones:BTC/USDT", "signals"} <= set(stream.channels)
    shown = chart(page)
    close = float(shown["lastClose"]) * 0.995
    candle = _candle(shown, hours_after=0, close=close, closed=False) | {"timeframe": "4h"}
    double.send("price", candle, channel="price:BTC/USDT:4h")
    page.wait_for_function(f"() => Number({DATA}.lastClose) === {close}")
    assert errors == []


def test_a_forming_candle_that_comes_before_the_candles_is_drawn_once_they_are_in(
    contexts: dict[str, Any], site: tuple[Flask, str], double: StreamDouble
) -> None:
    page = contexts["premium"].new_page()
    held: list[Any] = []
    page.route(
        "**/api/chart/candles*", lambda route: held.append(route)
    )  # the candles wait until released
    page.goto(f"{site[1]}/symbols/BTC/USDT?timeframe=1h")
    page.evaluate("() => document.addEventListener('live:price', () => { window.priced = 1; })")
    double.current("price:BTC/USDT:1h")
    _state(page, "connected")
    stored = {"lastTime": str(int(demo_candles(1).open_time[-1]))}
    candle = _candle(stored, hours_after=1, close=123.0, closed=False)
    double.send("price", candle, channel="price:BTC/USDT:1h")
    page.wait_for_function("() => window.priced === 1")
    assert held
    assert page.evaluate(CHART).get("state") != "ready"
    held[0].continue_()
    page.wait_for_function(READY)
    shown = chart(page)
    assert int(shown["lastTime"]) == candle["time"] * 1000
    assert shown["candles"] == "1001"
    page.close()
