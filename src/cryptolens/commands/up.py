"""``cryptolens up``: everything a local run needs, in one command (what ``make run`` calls)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import click
from flask import current_app

from cryptolens.clock import utcnow
from cryptolens.commands.serve import serve
from cryptolens.db import migrate
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.demo import prepare_demo_login
from cryptolens.services.passwords import Passwords

#: Where the demo replay starts: 18 months of history behind it, 9 months ahead.
DEMO_START = "2019-01-01"
#: The first candle of the shipped hourly history.
DEMO_HISTORY_START = "2017-07-01"


def _wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise click.ClickException(f"the exchange simulator did not start on {host}:{port}")


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


@click.command("up")
@click.option("--live", is_flag=True, help="Use the real exchange (EXCHANGE_API_URL unset).")
@click.option("--speed", default=60.0, show_default=True, help="Demo replay speed.")
@click.option(
    "--scan-interval", default=10, show_default=True, help="Seconds between scans (demo)."
)
def up(live: bool, speed: float, scan_interval: int) -> None:
    """Migrate, start the demo exchange (unless --live), load history, start the scheduler
    (and a worker when REDIS_URL is set), and serve."""
    settings = app_settings(current_app)
    # SIGTERM (from a supervisor or `timeout`) must unwind like Ctrl-C so the children stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    migrate.upgrade(db.engine)
    if not settings.is_production:
        login = prepare_demo_login(
            db.session(),
            passwords=Passwords(
                time_cost=settings.password_hash_time_cost,
                memory_kib=settings.password_hash_memory_kib,
            ),
            now=utcnow(),
        )
        db.session.commit()
        note = settings.instance_dir / "demo-login.txt"
        note.write_text(f"{login.email}\n{login.password}\n", encoding="utf-8")
        note.chmod(0o600)
        click.echo(
            f"\n  Sign in at http://{settings.host}:{settings.port}/auth/login as {login.email}"
            f"\n  with password {login.password}  (also in {note}; new on every start)\n"
        )
    with contextlib.ExitStack() as stack:
        if not live:
            if not settings.exchange_api_url:
                raise click.ClickException(
                    "the demo needs EXCHANGE_API_URL (e.g. http://127.0.0.1:8765); "
                    "use --live for the real exchange"
                )
            url = urlsplit(settings.exchange_api_url)
            host, port = url.hostname or "127.0.0.1", url.port or 80
            stack.enter_context(
                _background(
                    [
                        "exchange-sim",
                        "--host",
                        host,
                        "--port",
                        str(port),
                        "--speed",
                        str(speed),
                        "--start-at",
                        DEMO_START,
                    ]
                )
            )
            _wait_for_port(host, port)
        symbols = list(settings.symbols)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cryptolens",
                "symbols",
                "add",
                *(["--no-check"] if not live else []),
                *symbols,
            ],
            check=True,
        )
        if not live:
            for symbol in symbols:
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "cryptolens",
                        "backfill",
                        symbol,
                        "--since",
                        DEMO_HISTORY_START,
                    ],
                    check=False,
                )
        # The scheduler ingests and scans on its schedule: in its own process without Redis,
        # through a worker with it.
        interval = {"SCAN_INTERVAL_SECONDS": str(scan_interval if not live else 60)}
        stack.enter_context(_background(["scheduler"], env=interval))
        if settings.redis_url:
            stack.enter_context(_background(["worker"], env=interval))
        click.get_current_context().invoke(serve)
