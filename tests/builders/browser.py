"""Helpers for the browser tests (Debian's chromium through Playwright): the chromium path,
phone and desktop viewports, a tab signed in through the login form, and the page widths at
both sizes with a screenshot of each in build/screenshots."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from werkzeug.serving import make_server

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.extensions import db
from cryptolens.services.ops.background import wait_for_background
from tests.builders.db import clear_tables
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Person

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
VENDOR = (
    Path(__file__).resolve().parents[2]
    / "src/cryptolens/web/static/vendor/lightweight-charts.standalone.production.js"
)
#: A browser test's marks: skipped cleanly without chromium or the vendored chart library.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        not VENDOR.exists(), reason="lightweight-charts not copied: run make install"
    ),
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCROLL_WIDTH = "() => document.scrollingElement.scrollWidth"


def launch(playwright: Any) -> Any:
    """Headless Debian chromium (never a downloaded build)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
    )


def signed_in_tab(browser: Any, base: str, user: Person, then: str) -> tuple[Any, list[str]]:
    """A phone-sized tab signed in through the login form, on ``then``; and the list that
    collects its JavaScript and console errors (a CSP violation is one)."""
    context = browser.new_context(viewport=PHONE)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.goto(f"{base}/auth/login?next={then}")
    tab.fill("input[name='email']", user.email)
    tab.fill("input[name='password']", user.password)
    tab.click("form button[type='submit']")
    tab.wait_for_url(f"{base}{then}")
    return tab, errors


def shot(tab: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def widths(tab: Any, name: str) -> tuple[int, int]:
    """The page's scroll width on a phone and on a desktop (a screenshot of each); the tab
    is left at phone size."""
    tab.set_viewport_size(PHONE)
    phone = int(tab.evaluate(SCROLL_WIDTH))
    shot(tab, f"phone-{name}")
    tab.set_viewport_size(DESKTOP)
    desktop = int(tab.evaluate(SCROLL_WIDTH))
    shot(tab, f"desktop-{name}")
    tab.set_viewport_size(PHONE)
    return phone, desktop


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` on a threaded server at 127.0.0.1 (a free port): its base address."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def public_app(settings: Settings, engine: Engine) -> Iterator[tuple[Flask, str]]:
    """An app built from ``settings`` whose PUBLIC_URL is the address it is served at (links
    and provider redirects lead back to it), on a threaded server; its base address. The
    tables of ``engine`` are cleared afterwards."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_settings(**(settings.model_dump() | {"public_url": base, "port": port})))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, base
    finally:
        server.shutdown()
        thread.join(timeout=5)
        wait_for_background()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        clear_tables(engine)
