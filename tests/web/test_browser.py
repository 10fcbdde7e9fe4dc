"""The pages in a real browser: Debian's chromium driven by Playwright against a live server
seeded with real BTC/USD candles and the zones the detectors find in them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from cryptolens import create_app
from cryptolens.db import migrate
from cryptolens.db.models import Signal
from cryptolens.extensions import db
from tests.conftest import make_settings
from tests.web.seeding import add_signal, seed_btc_demo

CHROMIUM = Path("/usr/bin/chromium")
VENDOR = (
    Path(__file__).resolve().parents[2]
    / "src/cryptolens/web/static/vendor/lightweight-charts.standalone.production.js"
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        not VENDOR.exists(), reason="lightweight-charts not copied: run make install"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
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
        for outcome, r in (("tp2", 2.0), ("stop", -1.0), ("tp1", 1.0)):
            add_signal(db.session, symbol_id=symbol_id, outcome=outcome, r_multiple=r)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(live_server: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


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
    page.goto(f"{live_server}/symbols/BTC/USDT?timeframe=1h")
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
