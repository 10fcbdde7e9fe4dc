"""Market-data commands: symbols, backfill, ingest, the exchange simulator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import current_app

from cryptolens.db.symbols import ensure_symbol, list_symbols, require_symbol
from cryptolens.domain.errors import CryptoLensError, UnknownSymbolError, ValidationError
from cryptolens.domain.timeframes import TIMEFRAME_MS, datetime_to_ms, ms_to_datetime
from cryptolens.extensions import db
from cryptolens.market.exchange import ExchangeClient
from cryptolens.market.resilience import CircuitBreaker
from cryptolens.runtime import app_settings
from cryptolens.services.market.ingest import (
    BACKFILL_CHUNK,
    BackfillReport,
    IngestReport,
    backfill,
    exchange_client,
    ingest_cycle,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class MarketTime(click.ParamType):  # type: ignore[type-arg]
    """A UTC date or date-time (``2019-01-01`` or ``2019-01-01T12:00``) as epoch ms."""

    name = "date"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2019-01-01 or 2019-01-01T12:00", param, ctx)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return datetime_to_ms(moment)


MARKET_TIME = MarketTime()


class _BadInput(click.ClickException):
    """Input a rerun cannot fix (an unknown symbol, an empty range): exit 2."""

    exit_code = 2


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.group("symbols")
def symbols_group() -> None:
    """Watched symbols: add, list, remove."""


@symbols_group.command("add")
@click.argument("symbols", nargs=-1, required=True)
@click.option("--check/--no-check", default=True, help="Verify the exchange lists it.")
def symbols_add(symbols: tuple[str, ...], check: bool) -> None:
    """Watch SYMBOLS (e.g. BTC/USDT ETH/USDT) on the configured exchange."""
    settings = app_settings(current_app)
    if check:

        async def verify(client: ExchangeClient) -> None:
            for symbol in symbols:
                await client.market(symbol.upper())

        try:
            _with_client(verify)
        except UnknownSymbolError as exc:
            _fail(str(exc))
        except CryptoLensError as exc:
            _fail(f"could not verify with {settings.exchange_id} ({exc}); retry or use --no-check")
    session = db.session()
    try:
        for symbol in symbols:
            added = ensure_symbol(session, exchange=settings.exchange_id, symbol=symbol)
            click.echo(f"watching {added.symbol} on {added.exchange}")
        session.commit()
    except CryptoLensError as exc:
        session.rollback()
        _fail(str(exc))


@symbols_group.command("list")
def symbols_list() -> None:
    """List watched symbols with their state."""
    rows = list_symbols(db.session())
    if not rows:
        click.echo("no symbols yet: cryptolens symbols add BTC/USDT")
    for row in rows:
        state = "active" if row.active else f"inactive ({row.deactivated_reason or 'removed'})"
        click.echo(f"{row.exchange:<12} {row.symbol:<14} {state}")


@symbols_group.command("remove")
@click.argument("symbol")
@click.option("--purge", is_flag=True, help="Also delete its candles, zones and signals.")
def symbols_remove(symbol: str, purge: bool) -> None:
    """Stop watching SYMBOL (its data is kept unless --purge)."""
    settings = app_settings(current_app)
    session = db.session()
    try:
        found = require_symbol(session, exchange=settings.exchange_id, symbol=symbol)
    except CryptoLensError as exc:
        _fail(str(exc))
    if purge:
        session.delete(found)
        click.echo(f"removed {found.symbol} and its data")
    else:
        found.active = False
        found.deactivated_reason = "removed by operator"
        click.echo(f"stopped watching {found.symbol} (data kept; --purge deletes it)")
    session.commit()


def _with_client(work: Callable[[ExchangeClient], Awaitable[T]]) -> T:
    """Run ``work`` with a short-lived client for the configured exchange."""
    settings = app_settings(current_app)

    async def main() -> T:
        async with exchange_client(settings) as client:
            return await work(client)

    return asyncio.run(main())


class _Progress:
    """A stderr progress bar whose length is known only once the work list is.

    While it is shown, a record logged through the ``cryptolens`` logger first ends the
    bar's line, so a retry message never runs into the bar.
    """

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: Any = None
        self._mid_line = False
        self._logger = logging.getLogger("cryptolens")

    def start(self, total: int) -> None:
        stream = sys.stderr
        self._bar = click.progressbar(length=total, label=self._label, file=stream)
        self._bar.__enter__()
        self._mid_line = True
        for handler in self._logger.handlers:
            handler.addFilter(self._end_line)

    def advance(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done)
            self._mid_line = True

    def _end_line(self, record: logging.LogRecord) -> bool:
        if self._mid_line:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._mid_line = False
        return True

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handler in self._logger.handlers:
            handler.removeFilter(self._end_line)
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@click.command("backfill")
@click.argument("symbol")
@click.option("--since", required=True, type=MARKET_TIME, help="First open time (UTC date).")
@click.option("--until", type=MARKET_TIME, help="End, exclusive (default: the exchange's now).")
@click.option("--timeframe", type=click.Choice(list(TIMEFRAME_MS)), help="Default: the base.")
@click.option(
    "--chunk",
    default=BACKFILL_CHUNK,
    show_default=True,
    type=click.IntRange(min=1),
    help="Candles fetched and committed per step (the unit of resumption).",
)
def backfill_command(
    symbol: str, since: int, until: int | None, timeframe: str | None, chunk: int
) -> None:
    """Fetch SYMBOL's missing candles in a range; run it again to resume."""
    settings = app_settings(current_app)
    engine = db.engine
    progress = _Progress(f"{symbol} backfill")

    async def work(client: ExchangeClient) -> BackfillReport:
        with progress:
            return await backfill(
                engine,
                settings,
                client,
                symbol=symbol,
                since_ms=since,
                until_ms=until,
                timeframe=timeframe,
                on_total=progress.start,
                on_progress=progress.advance,
                chunk=chunk,
            )

    try:
        report = _with_client(work)
    except (UnknownSymbolError, ValidationError) as exc:  # a rerun would fail the same way
        raise _BadInput(f"backfill: {exc}") from None
    except CryptoLensError as exc:  # already logged per page; say how to resume
        _fail(f"backfill stopped: {exc} (run the same command again to resume)")
    click.echo(report.summary())
    if not report.complete:
        _fail(
            f"{report.gaps_left} hole(s) ({report.missing_candles} candles) remain that the "
            "exchange was not asked about successfully; run the same command again to resume"
        )


@click.command("ingest")
@click.option("--once", is_flag=True, help="Run one cycle and exit.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between cycles.")
def ingest_command(once: bool, interval: float) -> None:
    """Fetch newly closed candles of every active symbol, every INTERVAL seconds."""
    settings = app_settings(current_app)
    engine = db.engine
    breaker = CircuitBreaker(settings.exchange_id)

    async def loop() -> IngestReport:
        async with exchange_client(settings, breaker=breaker) as client:
            while True:
                started = time.monotonic()
                report = await ingest_cycle(engine, settings, client)
                counts = report.counts()
                now = ms_to_datetime(report.now_ms).isoformat() if report.now_ms else "-"
                click.echo(
                    f"ingest at market time {now}: "
                    + ", ".join(f"{k} {v}" for k, v in counts.items())
                )
                if once:
                    return report
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    with contextlib.suppress(KeyboardInterrupt):
        report = asyncio.run(loop())
        if report.symbols and len(report.failed) == len(report.symbols):
            _fail(f"every symbol failed ({report.failed[0].error})")


@click.command("exchange-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--speed",
    default=60.0,
    show_default=True,
    help="Market seconds per wall second (3600: an hour a second).",
)
@click.option("--start-at", type=MARKET_TIME, help="Market time at start (UTC).")
@click.option("--data-dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def exchange_sim(
    host: str, port: int, speed: float, start_at: int | None, data_dir: Path | None
) -> None:
    """Serve the Binance-compatible exchange simulator over the demo history."""
    from cryptolens.market.simulator.demo import run_simulator

    if speed <= 0:
        _fail("--speed must be positive")
    run_simulator(host, port, speed=speed, start_at_ms=start_at, data_dir=data_dir)
