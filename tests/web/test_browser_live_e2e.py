"""The live chart end to end in a real browser (issue 19): the exchange simulator, the real
gateway process (``cryptolens stream``), the app on loopback and the scanner run in-process as
the scheduler would, all on one database.

The simulator replays the shipped BTC/USDT hours on a frozen market clock the tests move by
hand. Which candle's close produces a signal is found deterministically before the browser
opens: a scratch database scanned from the same start and then caught up shows the first
signal after it. The scanner promises that catching up ends where scanning candle by candle
would, so the real database, scanned up to the candle before, gets that signal when that
candle closes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.engine import create_engine_for
from cryptolens.db.models import Signal
from cryptolens.db.symbols import ensure_symbol
from cryptolens.domain.timeframes import HOUR_MS
from cryptolens.extensions import db
from cryptolens.market.simulator import SimulatorServer
from cryptolens.market.simulator.demo import demo_datasets
from cryptolens.services.scanning.scan import scan_cycle
from tests.builders.browser import (
    BROWSER_MARKS,
    DESKTOP,
    PHONE,
    launch,
    serving,
    signed_in_tab,
    widths,
)
from tests.builders.db import clear_tables
from tests.builders.settings import TEST_SECRET, make_settings
from tests.builders.stream import free_port
from tests.web.accounts_helpers import Person, make_user

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")

MINUTE_MS = 60_000
DATA = "document.querySelector('#chart').dataset"
#: Generous waits: three processes and a browser share the machine with other suites.
WAIT_MS = 30_000


@dataclass
class World:
    sim: SimulatorServer
    settings: Settings
    engine: Engine
    #: Close time of the candle whose close produces a signal (the signal's created_at).
    closes_at: int
    base: str
    premium: Person


def _settings(url: str, folder: Path, sim: SimulatorServer, **overrides: Any) -> Settings:
    return make_settings(
        database_url=url,
        instance_dir=folder,
        timeframes=("1h", "4h"),
        base_timeframe="1h",
        exchange_id="binance",
        exchange_api_url=sim.base_url,
        **overrides,
    )


def _watch_btc(engine: Engine) -> Engine:
    with Session(engine) as session, session.begin():
        ensure_symbol(session, exchange="binance", symbol="BTC/USDT")
    return engine


def _signal_times(engine: Engine, after: int) -> list[int]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Signal.created_at).where(Signal.created_at > after).order_by("created_at")
            )
        )


def _first_signal_close(folder: Path, sim: SimulatorServer, start: int) -> int:
    """When the first signal after ``start`` fires: a scratch database scanned at ``start``
    (10 minutes into its candle), then caught up 300 hours later."""
    settings = _settings(f"sqlite:///{folder / 'scratch.sqlite'}", folder, sim)
    engine = create_engine_for(settings)
    migrate.upgrade(engine)
    _watch_btc(engine)
    try:
        sim.clock.set(now_ms=start + 10 * MINUTE_MS)
        scan_cycle(engine, settings)
        sim.clock.set(now_ms=start + 300 * HOUR_MS + 10 * MINUTE_MS)
        scan_cycle(engine, settings)
        found = _signal_times(engine, start)
    finally:
        engine.dispose()
    assert found, "no signal in 300 hours of the demo data"
    return found[0]


def _wait_until_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stream/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the gateway did not start: {log.read_text()}")


@pytest.fixture(scope="module")
def gateway_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    gateway_port: int,
    database_url: str,
    migrated_engine: Engine,
) -> Iterator[World]:
    """Simulator, scanned database (the suite's: SQLite, or TEST_DATABASE_URL), app and
    gateway process; the market frozen 10 minutes into the candle before the one whose close
    produces a signal."""
    folder = tmp_path_factory.mktemp("live-e2e")
    data = demo_datasets()["BTC/USDT"]
    start = data.last_open_ms - 600 * HOUR_MS
    sim = SimulatorServer({"BTC/USDT": data}, speed=0.0, start_at_ms=start).start()
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    try:
        closes_at = _first_signal_close(folder, sim, start)
        settings = _settings(
            database_url, folder, sim, stream_pages=True, stream_public_url=gateway_url
        )
        clear_tables(migrated_engine)
        engine = _watch_btc(migrated_engine)
        sim.clock.set(now_ms=start + 10 * MINUTE_MS)
        scan_cycle(engine, settings)
        # Caught up to the candle before: stored through the close of closes_at - 2h.
        sim.clock.set(now_ms=closes_at - HOUR_MS + 10 * MINUTE_MS)
        scan_cycle(engine, settings)
        assert closes_at not in _signal_times(engine, start)
        app = create_app(settings)
        premium = make_user(app, "live-e2e@example.com", plan="premium")
        with serving(app) as base, _gateway(folder, settings, gateway_port, base):
            yield World(sim, settings, engine, closes_at, base, premium)
        with app.app_context():
            db.engine.dispose()
    finally:
        sim.stop()
        clear_tables(migrated_engine)


@contextmanager
def _gateway(folder: Path, settings: Settings, port: int, origin: str) -> Iterator[None]:
    """``cryptolens stream`` as its own process on ``port`` (no Redis: it tails the events
    table itself), the app at ``origin``; its output in gateway.log."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": settings.database_url,
        "INSTANCE_DIR": str(folder),
        "EXCHANGE_ID": "binance",
        "EXCHANGE_API_URL": str(settings.exchange_api_url),
        "BASE_TIMEFRAME": "1h",
        "TIMEFRAMES": "1h,4h",
        "PUBLIC_URL": origin,
        "STREAM_POLL_SECONDS": "0.1",
        "STREAM_PRICE_POLLS_PER_SECOND": "5",
        "LOG_LEVEL": "WARNING",
    }
    log = folder / "gateway.log"
    command = [sys.executable, "-m", "cryptolens", "stream", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=folder, stdout=out, stderr=out)
        try:
            _wait_until_up(port, process, log)
            yield
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@pytest.fixture(scope="module")
def browser(world: World) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def chart_tab(browser: Any, world: World) -> Iterator[tuple[Any, list[str]]]:
    """The Premium user's 1h BTC/USDT chart, loaded and connected to the gateway."""
    page, errors = signed_in_tab(browser, world.base, world.premium, "/symbols/BTC/USDT")
    page.goto(f"{world.base}/symbols/BTC/USDT?timeframe=1h")
    page.wait_for_function(f"() => {DATA}.state === 'ready'", timeout=WAIT_MS)
    page.wait_for_function(
        "() => document.querySelector('#live-state').dataset.state === 'connected'",
        timeout=WAIT_MS,
    )
    yield page, errors
    page.context.close()


def chart(page: Any) -> dict[str, str]:
    found: dict[str, str] = page.evaluate(f"() => ({{...{DATA}}})")
    return found


def _forming_candle(page: Any, open_time: int) -> dict[str, str]:
    page.wait_for_function(f"() => Number({DATA}.lastTime) === {open_time}", timeout=WAIT_MS)
    return chart(page)


def test_the_forming_candle_moves_with_the_simulated_market(
    chart_tab: tuple[Any, list[str]], world: World
) -> None:
    page, errors = chart_tab
    forming = world.closes_at - HOUR_MS
    world.sim.clock.set(now_ms=forming + 10 * MINUTE_MS)
    # The stored history ends with the candle before; the gateway's poller adds the forming one.
    first = _forming_candle(page, forming)
    assert first["lastClosed"] != "true"
    world.sim.clock.set(now_ms=forming + 40 * MINUTE_MS)
    page.wait_for_function(
        f"() => {DATA}.lastClose !== '{first['lastClose']}' && "
        f"Number({DATA}.lastTime) === {forming}",
        timeout=WAIT_MS,
    )
    moved = chart(page)
    assert moved["candles"] == first["candles"]  # the same candle moved, none was added
    # The simulator's forming candle goes from its open towards its close as time passes.
    row = world.sim.book.dataset("BTC/USDT").row(
        world.sim.book.dataset("BTC/USDT").index_of(forming)
    )
    opened, closed = row[1], row[4]
    assert abs(float(moved["lastClose"]) - closed) < abs(float(first["lastClose"]) - closed)
    assert abs(float(moved["lastClose"]) - opened) > abs(float(first["lastClose"]) - opened)
    assert errors == []


def test_a_signal_from_the_closing_candle_appears_as_a_toast(
    chart_tab: tuple[Any, list[str]], world: World
) -> None:
    page, errors = chart_tab
    markers = int(chart(page)["markers"])
    world.sim.clock.set(now_ms=world.closes_at + 5 * MINUTE_MS)
    # As the scheduler's scan job would, in a thread of its own (Playwright's sync API keeps
    # an event loop running in this one).
    with ThreadPoolExecutor(1) as scanner:
        report = scanner.submit(scan_cycle, world.engine, world.settings).result(120)
    assert report.signal_ids, report.counts()
    with Session(world.engine) as session:
        made = session.scalars(select(Signal).where(Signal.id.in_(report.signal_ids))).all()
    assert [s.created_at for s in made] == [world.closes_at] * len(made)
    signal = made[0]
    toast = page.locator(f"#toasts .toast[data-signal='{signal.id}']")
    toast.wait_for(timeout=WAIT_MS)
    assert f"New {signal.direction} signal · BTC/USDT" in toast.inner_text()
    assert toast.locator("a").get_attribute("href") == f"/signals/{signal.id}"
    page.wait_for_function(f"() => Number({DATA}.markers) >= {markers + 1}", timeout=WAIT_MS)
    page.set_viewport_size(PHONE)
    phone, desktop = widths(page, "live-e2e-toast")
    assert phone <= PHONE["width"]
    assert desktop <= DESKTOP["width"]
    assert errors == []
