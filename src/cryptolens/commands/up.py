"""``cryptolens up``: everything a local run needs, in one command (what ``make run`` calls)."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import click
from flask import Flask, current_app

from cryptolens.db import migrate
from cryptolens.extensions import db
from cryptolens.web.state import app_settings

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
def _background(args: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-m", "cryptolens", *args])
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
@click.option("--ingest-interval", default=10.0, show_default=True)
def up(live: bool, speed: float, ingest_interval: float) -> None:
    """Migrate, start the demo exchange (unless --live), load history, ingest, and serve."""
    settings = app_settings(current_app)
    # SIGTERM (from a supervisor or `timeout`) must unwind like Ctrl-C so the children stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    migrate.upgrade(db.engine)
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
        stack.enter_context(_background(["ingest", "--interval", str(ingest_interval)]))
        from cryptolens.cli import serve

        click.get_current_context().invoke(serve)


def register(app: Flask) -> None:
    app.cli.add_command(up)
