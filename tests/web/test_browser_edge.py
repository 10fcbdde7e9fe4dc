"""The edge report in a real browser (Debian's chromium through Playwright): a Free verified
user opens /edge from the navigation and reads the full report, model included, computed on
the shipped history; the page fits a 390 px phone and a desktop without sideways scrolling
and raises no JavaScript or Content-Security-Policy error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from cryptolens import create_app
from cryptolens.clock import utcnow
from cryptolens.db import migrate
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.quality.edge_report import compute_report
from cryptolens.services.quality.edge_store import save_report
from tests.builders.browser import BROWSER_MARKS, DESKTOP, PHONE, launch, serving, signed_in_tab
from tests.builders.browser import widths as page_widths
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import make_user

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("edge-browser")
    settings = make_settings(
        database_url=f"sqlite:///{folder / 'edge.sqlite'}",
        instance_dir=folder,
        timeframes=("1h", "2h", "4h", "1d"),
        base_timeframe="1h",
    )
    app: Flask = create_app(settings)
    with app.app_context():
        migrate.upgrade(db.engine)
        engine = db.engine
    save_report(settings, compute_report(app_settings(app), now=utcnow()))
    user = make_user(app, "free-edge@example.com")
    with serving(app) as base:
        yield {"base": base, "user": user}
    engine.dispose()


def test_a_free_user_reads_the_edge_report_on_a_phone_and_a_desktop(
    live: dict[str, Any],
) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        tab, errors = signed_in_tab(browser, live["base"], live["user"], "/")
        tab.click("#nav-edge")
        tab.wait_for_url(f"{live['base']}/edge")
        assert tab.locator("#hold-table tbody tr").count() == 24
        assert tab.locator("#auc-table tbody tr").count() == 4
        assert tab.locator("#reliability-table tbody tr").count() == 10
        assert tab.locator("#signal-table tbody tr").count() == 3
        assert "no edge" in tab.inner_text("#edge-summary")
        phone, desktop = page_widths(tab, "edge-report")
        browser.close()
    assert phone <= PHONE["width"]
    assert desktop <= DESKTOP["width"]
    assert errors == []
