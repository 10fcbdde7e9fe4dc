"""Backtests in a real browser (Debian's chromium through Playwright): a Premium user on a
390 px phone submits a small backtest from the form and sees its equity curve drawn; a run
still queued shows a progress bar that follows the run and reloads into the results when it
ends; a small sweep from the form ranks its combinations and links one back into the
form; a walk-forward shows its progress as backtests done, then its splits. Every page fits
a phone and a desktop without sideways scrolling and raises no JavaScript or
Content-Security-Policy error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from cryptolens import create_app
from cryptolens.db import migrate
from cryptolens.detect import Candles
from cryptolens.extensions import db
from cryptolens.market.simulator.demo import demo_datasets
from cryptolens.services.backtests.run import check_request
from cryptolens.services.backtests.store import create_run, execute_run
from cryptolens.services.backtests.sweeps import check_sweep
from tests.builders.backtests_web import queued_run
from tests.builders.browser import (
    BROWSER_MARKS,
    DESKTOP,
    PHONE,
    launch,
    serving,
    signed_in_tab,
    widths,
)
from tests.builders.db import add_symbol, store
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import make_user

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")

#: Pixels of a chart's canvases that differ from its background: drawn, not just created.
PAINTED = """(id) => {
  let painted = 0;
  for (const canvas of document.querySelectorAll('#' + id + ' canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] && (data[i] > 60 || data[i + 1] > 60 || data[i + 2] > 80)) painted++;
    }
  }
  return painted;
}"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A live server on a migrated SQLite file with 90 days of BTC/USDT hours, and a
    Premium user."""
    folder = tmp_path_factory.mktemp("backtests-browser")
    settings = make_settings(
        database_url=f"sqlite:///{folder / 'backtests.sqlite'}",
        instance_dir=folder,
        timeframes=("1h", "2h", "4h", "1d"),
        base_timeframe="1h",
        exchange_id="binance",
    )
    app: Flask = create_app(settings)
    with app.app_context():
        migrate.upgrade(db.engine)
        engine = db.engine
    ds = demo_datasets()["BTC/USDT"]
    hours = Candles(ds.open_time, ds.open, ds.high, ds.low, ds.close, ds.volume)[: 90 * 24]
    store(engine, settings, add_symbol(engine, "BTC/USDT"), hours)
    premium = make_user(app, "premium-backtest@example.com", plan="premium")
    with serving(app) as base:
        yield {
            "base": base,
            "app": app,
            "settings": settings,
            "engine": engine,
            "premium": premium,
        }
    engine.dispose()


@pytest.fixture(scope="module")
def browser(live: dict[str, Any]) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


READY = "(id) => document.getElementById(id)?.dataset.state === 'ready'"


def _ready(tab: Any, element_id: str) -> None:
    tab.wait_for_function(READY, arg=element_id, timeout=20_000)


def test_a_premium_user_runs_a_small_backtest_and_sees_its_equity_curve(
    browser: Any, live: dict[str, Any]
) -> None:
    base = live["base"]
    tab, errors = signed_in_tab(browser, base, live["premium"], "/backtests")
    assert tab.locator("#bt-symbol").input_value() == "BTC/USDT"
    seen = {"form": widths(tab, "backtests-form")}
    tab.fill("#bt-since", "2017-07-05")
    tab.fill("#bt-until", "2017-08-20")
    tab.fill("textarea[name='advanced']", "risk_pct=2")
    with tab.expect_navigation():
        tab.click("#run-backtest")
    assert "/backtests/" in tab.url
    _ready(tab, "bt-equity")
    _ready(tab, "bt-price")
    equity = tab.locator("#bt-equity")
    assert int(equity.get_attribute("data-drawn") or 0) > 24 * 40
    assert tab.locator("#bt-equity canvas").count() > 0
    assert tab.evaluate(PAINTED, "bt-equity") > 500
    assert tab.evaluate(PAINTED, "bt-drawdown") > 100
    trades = int(tab.locator("#m-trades").inner_text())
    assert trades > 0
    assert int(tab.locator("#bt-price").get_attribute("data-markers-drawn") or 0) == 2 * trades
    assert tab.locator("#trades tbody tr").count() == trades
    seen["results"] = widths(tab, "backtests-results")
    tab.context.close()
    assert {name: w for name, w in seen.items() if w[0] > PHONE["width"]} == {}
    assert {name: w for name, w in seen.items() if w[1] > DESKTOP["width"]} == {}
    assert errors == []


def test_a_queued_run_shows_its_progress_then_reloads_into_the_results(
    browser: Any, live: dict[str, Any]
) -> None:
    base, premium = live["base"], live["premium"]
    run_id = queued_run(live["app"], premium.id)
    tab, errors = signed_in_tab(browser, base, premium, f"/backtests/{run_id}")
    bar = tab.locator("#run-progress")
    assert bar.is_visible()
    assert tab.locator("#bt-equity").count() == 0
    seen = {"progress": widths(tab, "backtests-progress")}
    assert execute_run(live["engine"], live["settings"], run_id) == "done"
    _ready(tab, "bt-equity")  # the bar's poll saw the end and reloaded the page
    assert tab.locator("#run-progress").count() == 0
    assert tab.evaluate(PAINTED, "bt-equity") > 500
    tab.context.close()
    assert {name: w for name, w in seen.items() if w[0] > PHONE["width"]} == {}
    assert {name: w for name, w in seen.items() if w[1] > DESKTOP["width"]} == {}
    assert errors == []


def test_a_small_sweep_from_the_form_ranks_its_combinations_and_links_the_best(
    browser: Any, live: dict[str, Any]
) -> None:
    base = live["base"]
    tab, errors = signed_in_tab(browser, base, live["premium"], "/backtests")
    tab.fill("#bt-since", "2017-07-05")
    tab.fill("#bt-until", "2017-08-20")
    tab.click("#sweep-section summary")
    tab.fill("#bt-sweep", "min_confluence=1,2\nstop_atr=0.5:1:0.5")
    tab.select_option("#bt-sweep-metric", "total_return")
    seen = {"sweep-form": widths(tab, "backtests-sweep-form")}
    with tab.expect_navigation():
        tab.click("#run-backtest")
    tab.wait_for_selector("#ranking", timeout=20_000)  # reloaded when the run ended
    rows = tab.locator("#ranking tbody tr")
    assert rows.count() == 4
    assert rows.nth(0).get_attribute("class") == "best"
    assert tab.locator("#best-metrics").is_visible()
    seen["sweep-ranking"] = widths(tab, "backtests-sweep-ranking")
    with tab.expect_navigation():
        tab.locator("#ranking .run-combination").first.click()
    best = dict(line.split("=") for line in tab.locator("#bt-advanced").input_value().split())
    assert best["min_confluence"] in {"1", "2"}
    assert best["stop_atr"] in {"0.5", "1.0"}
    assert best["risk_pct"] == "1.0"  # the form's fixed fields come along
    tab.context.close()
    assert {name: w for name, w in seen.items() if w[0] > PHONE["width"]} == {}
    assert {name: w for name, w in seen.items() if w[1] > DESKTOP["width"]} == {}
    assert errors == []


def test_a_walk_forward_shows_its_warnings_splits_and_progress(
    browser: Any, live: dict[str, Any]
) -> None:
    base, premium, app = live["base"], live["premium"], live["app"]
    request = check_request(
        symbol="BTC/USDT",
        since=datetime(2017, 7, 2, tzinfo=UTC),
        until=datetime(2017, 9, 28, tzinfo=UTC),
        params={},
    )
    sweep = {"space": ["min_confluence=1,2,3"], "walk_forward": {"in_days": 20, "out_days": 10}}
    with app.app_context():
        plan = check_sweep(live["settings"], request, sweep)
        run_id = create_run(db.session, user_id=premium.id, request=request, plan=plan).id
        db.session.commit()
    tab, errors = signed_in_tab(browser, base, premium, f"/backtests/{run_id}")
    assert (
        "0 / 24 backtests"
    )  # 6 splits x (3 + 1) in tab.locator("#run-progress-text").inner_text()
    seen = {"wf-progress": widths(tab, "backtests-walk-forward-progress")}
    assert execute_run(live["engine"], live["settings"], run_id) == "done"
    tab.wait_for_selector("#wf-splits", timeout=20_000)
    assert tab.locator("#wf-splits tbody tr").count() == 6
    assert tab.locator("#wf-warnings").is_visible()
    assert tab.locator("#stitched-metrics").is_visible()
    seen["wf-results"] = widths(tab, "backtests-walk-forward")
    tab.context.close()
    assert {name: w for name, w in seen.items() if w[0] > PHONE["width"]} == {}
    assert {name: w for name, w in seen.items() if w[1] > DESKTOP["width"]} == {}
    assert errors == []
