"""``cryptolens up``: everything a local run needs, in one command (what ``make run`` calls)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import click
from flask import current_app

from cryptolens.clock import utcnow
from cryptolens.commands.serve import serve
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.domain.timeframes import datetime_to_ms, ms_to_datetime
from cryptolens.extensions import db
from cryptolens.runtime import RUNTIME_KEY, app_runtime, app_settings
from cryptolens.services.accounts.passwords import Passwords
from cryptolens.services.ops.demo import (
    DEMO_DATA,
    demo_replay_start,
    prepare_demo_login,
    save_demo_login,
)

#: Where the demo replay starts: 18 months of history behind it, 9 months ahead.
DEMO_START = "2019-01-01"
#: The first candle of the shipped hourly history.
DEMO_HISTORY_START = "2017-07-01"


def _wait_for_port(
    host: str, port: int, timeout: float = 20.0, *, what: str = "the exchange simulator"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise click.ClickException(f"{what} did not start on {host}:{port}")


@contextlib.contextmanager
def _background(
    args: list[str], env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cryptolens", *args],
        env=None if env is None else {**os.environ, **env},
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _announce_demo_login(settings: Settings) -> None:
    """Give the demo administrator a new password and tell the operator where to sign in."""
    login = prepare_demo_login(
        db.session(),
        passwords=Passwords(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
        ),
        now=utcnow(),
    )
    db.session.commit()
    note = save_demo_login(login, instance_dir=settings.instance_dir)
    where = f"also in {note}; " if note is not None else ""
    click.echo(
        f"\n  Sign in at http://{settings.host}:{settings.port}/auth/login as {login.email}"
        f"\n  with password {login.password}  ({where}new on every start)\n"
    )


def _demo_start_at(settings: Settings) -> str:
    """The market time the demo exchange starts at (ISO), resuming a previous run's clock."""
    default_ms = datetime_to_ms(datetime.fromisoformat(DEMO_START).replace(tzinfo=UTC))
    start_ms = demo_replay_start(db.session(), exchange=settings.exchange_id, default_ms=default_ms)
    db.session.rollback()  # read only; end the transaction before the long run
    start = ms_to_datetime(start_ms)
    if start_ms > default_ms:
        click.echo(f"  The demo market resumes at {start:%Y-%m-%d %H:%M} UTC, where it stopped.")
    return start.isoformat()


def _start_demo_exchange(stack: contextlib.ExitStack, settings: Settings, speed: float) -> None:
    if not settings.exchange_api_url:
        raise click.ClickException(
            "the demo needs EXCHANGE_API_URL (e.g. http://127.0.0.1:8765); "
            "use --live for the real exchange"
        )
    url = urlsplit(settings.exchange_api_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    args = ["exchange-sim", "--host", host, "--port", str(port), "--speed", str(speed)]
    stack.enter_context(_background([*args, "--start-at", _demo_start_at(settings)]))
    _wait_for_port(host, port)
    click.echo(
        f"  Demo data: {DEMO_DATA}, served as {', '.join(settings.symbols)}"
        " by the local simulator; not live prices (make run LIVE=1 for those)."
    )


def _start_stream_gateway(stack: contextlib.ExitStack, settings: Settings) -> None:
    """Start ``cryptolens stream`` and point the pages at it (STREAM_PUBLIC_URL, unless set):
    its own port, where the browser sends the session cookie too (cookies ignore ports)."""
    host, port = settings.stream_host, settings.stream_port
    stack.enter_context(_background(["stream", "--host", host, "--port", str(port)]))
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    _wait_for_port(reachable, port, what="the stream gateway")
    public = settings.stream_public_url or f"http://{reachable}:{port}"
    runtime = app_runtime(current_app)
    pointed = runtime.settings.model_copy(update={"stream_public_url": public})
    current_app.extensions[RUNTIME_KEY] = dataclasses.replace(runtime, settings=pointed)
    click.echo(f"  Real-time stream: {public}/stream (SSE) and {public}/ws (WebSocket)")


def _cryptolens(*args: str, check: bool) -> None:
    subprocess.run([sys.executable, "-m", "cryptolens", *args], check=check)


def _watch_and_load(symbols: list[str], *, live: bool) -> None:
    """Watch the configured symbols; in the demo, load their history first."""
    _cryptolens("symbols", "add", *(["--no-check"] if not live else []), *symbols, check=True)
    if not live:
        for symbol in symbols:
            # A symbol's history may start later than the demo's: not worth stopping for.
            _cryptolens("backfill", symbol, "--since", DEMO_HISTORY_START, check=False)


@click.command("up")
@click.option("--live", is_flag=True, help="Use the real exchange (EXCHANGE_API_URL unset).")
@click.option("--speed", default=60.0, show_default=True, help="Demo replay speed.")
@click.option(
    "--scan-interval", default=10, show_default=True, help="Seconds between scans (demo)."
)
def up(live: bool, speed: float, scan_interval: int) -> None:
    """Migrate, start the demo exchange (unless --live), load history, start the scheduler
    (and a worker when REDIS_URL is set) and the stream gateway, and serve.

    A restarted demo resumes its market where the stored clock stopped."""
    settings = app_settings(current_app)
    # SIGTERM (from a supervisor or `timeout`) must unwind like Ctrl-C so the children stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    migrate.upgrade(db.engine)
    if not settings.is_production:
        _announce_demo_login(settings)
    with contextlib.ExitStack() as stack:
        if not live:
            _start_demo_exchange(stack, settings, speed)
        _watch_and_load(list(settings.symbols), live=live)
        # The scheduler ingests and scans on its schedule: in its own process without Redis,
        # through a worker with it.
        interval = {"SCAN_INTERVAL_SECONDS": str(scan_interval if not live else 60)}
        stack.enter_context(_background(["scheduler"], env=interval))
        if settings.redis_url:
            stack.enter_context(_background(["worker"], env=interval))
        _start_stream_gateway(stack, settings)
        click.get_current_context().invoke(serve)
