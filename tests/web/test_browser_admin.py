"""The admin dashboard in a real browser (Debian's chromium through Playwright), on a 390 px
phone and a desktop: an administrator clears the caches and pauses then resumes the
scheduler from the quick actions, and reads each outcome in the result panel; the admin
pages fit both widths without sideways scrolling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from cryptolens import create_app
from cryptolens.db import migrate
from cryptolens.extensions import cache, db
from cryptolens.services.ops.runtime_settings import load_runtime
from tests.builders.browser import (
    BROWSER_MARKS,
    DESKTOP,
    PHONE,
    launch,
    serving,
    shot,
    signed_in_tab,
    widths,
)
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Person, make_user

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask, Person]]:
    folder = tmp_path_factory.mktemp("admin-browser")
    settings = make_settings(
        database_url=f"sqlite:///{folder / 'admin.sqlite'}", instance_dir=folder
    )
    app: Flask = create_app(settings)
    with app.app_context():
        migrate.upgrade(db.engine)
    admin = make_user(app, "admin@example.com", admin=True)
    with serving(app) as base:
        yield base, app, admin
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(live: tuple[str, Flask, Person]) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


def _act(tab: Any, name: str) -> str:
    with tab.expect_navigation():
        tab.click(f"#action-{name}")
    return str(tab.locator("#action-result").inner_text())


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_two_quick_actions_show_their_results(
    browser: Any, live: tuple[str, Flask, Person], size: str
) -> None:
    base, app, admin = live
    tab, errors = signed_in_tab(browser, base, admin, "/admin/")
    tab.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    with app.app_context():
        cache.set("matrix:browser=1", "<p>stale</p>", timeout=300)

    result = _act(tab, "clear_caches")
    assert "Clear caches: done" in result
    assert "Page caches cleared" in result
    with app.app_context():
        assert cache.get("matrix:browser=1") is None

    result = _act(tab, "pause")
    shot(tab, f"{size}-admin-paused")
    assert "Pause the scheduler: done" in result
    assert tab.locator("#scheduler-state").inner_text() == "paused"
    assert tab.locator("#action-resume").is_visible()
    with app.app_context():
        assert load_runtime(db.session()).scheduler_paused

    result = _act(tab, "resume")
    assert "running again" in result
    assert tab.locator("#scheduler-state").inner_text() == "running"
    with app.app_context():
        assert not load_runtime(db.session()).scheduler_paused

    tab.goto(f"{base}/admin/audit")
    log = tab.locator("#audit-log").inner_text()
    for action in ("action.clear_caches", "scheduler.pause", "scheduler.resume"):
        assert action in log
    tab.context.close()
    assert errors == []


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/users", "/admin/symbols", "/admin/settings", "/admin/jobs", "/admin/audit"],
)
def test_admin_pages_fit_a_phone_and_a_desktop(
    browser: Any, live: tuple[str, Flask, Person], path: str
) -> None:
    base, _app, admin = live
    tab, errors = signed_in_tab(browser, base, admin, path)
    phone_width, desktop_width = widths(tab, path.strip("/").replace("/", "-"))
    tab.context.close()
    assert phone_width <= PHONE["width"]
    assert desktop_width <= DESKTOP["width"]
    assert errors == []
