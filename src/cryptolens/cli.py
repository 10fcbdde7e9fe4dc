"""The ``cryptolens`` command line: a lazy group that imports only the command being run.

``cryptolens --help`` lists the commands from the table below without importing them (or
Flask, SQLAlchemy, pandas, CCXT); running a command imports its module and, when it needs
one, builds the application and pushes its app context.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cryptolens.version import __version__

if TYPE_CHECKING:
    from flask import Flask


@dataclass(frozen=True, slots=True)
class CommandSpec:
    target: str  # "module:attribute"
    summary: str  # the command's own short help; a test keeps the two equal
    needs_app: bool = True


COMMANDS: dict[str, CommandSpec] = {
    "api-keys": CommandSpec(
        "cryptolens.commands.api_keys:api_keys_group", "API keys: create, list, revoke, rotate."
    ),
    "backup": CommandSpec(
        "cryptolens.commands.backup:backup_command",
        "Back up the database to TARGET (SQLite: online copy; PostgreSQL: pg_dump custom format).",
    ),
    "backfill": CommandSpec(
        "cryptolens.commands.market:backfill_command",
        "Fetch SYMBOL's missing candles in a range; run it again to resume.",
    ),
    "backtest": CommandSpec(
        "cryptolens.commands.backtest:backtest_command",
        "Backtest SYMBOL's stored candles from SINCE to UNTIL with the live strategy; print "
        "the metrics, write the trades as JSON.",
    ),
    "db": CommandSpec("cryptolens.commands.db:db_group", "Database schema migrations."),
    "db-health": CommandSpec(
        "cryptolens.commands.health:db_health_command",
        "Check stored candles: base-timeframe holes, duplicate and misaligned rows, and "
        "higher timeframes that disagree with the base data (missing, extra or different "
        "buckets).",
    ),
    "edge-report": CommandSpec(
        "cryptolens.commands.edge_report:edge_report_command",
        "Hold rates against placebo zones, the model's out-of-sample quality and the signals' "
        "expectancy after fees, on the shipped BTC/USD history.",
    ),
    "exchange-sim": CommandSpec(
        "cryptolens.commands.market:exchange_sim",
        "Serve the Binance-compatible exchange simulator over the demo history.",
        needs_app=False,
    ),
    "ingest": CommandSpec(
        "cryptolens.commands.market:ingest_command",
        "Fetch newly closed candles of every active symbol, every INTERVAL seconds.",
    ),
    "jobs": CommandSpec(
        "cryptolens.commands.jobs:jobs_group",
        "Background jobs: run one now, or see recent runs.",
    ),
    "notify": CommandSpec(
        "cryptolens.commands.notify:notify_group",
        "Signal alerts: set a user's channel, send a test, list deliveries.",
    ),
    "quality": CommandSpec(
        "cryptolens.commands.quality:quality_group",
        "Zone-quality model: train it, list the saved versions.",
    ),
    "restore": CommandSpec(
        "cryptolens.commands.backup:restore_command",
        "Restore the database from SOURCE, a file written by `cryptolens backup`.",
    ),
    "routes": CommandSpec("flask.cli:routes_command", "Show the routes for the app."),
    "scan": CommandSpec(
        "cryptolens.commands.jobs:scan_command",
        "Fetch newly closed candles, detect zones, advance them and evaluate signals.",
    ),
    "scheduler": CommandSpec(
        "cryptolens.commands.jobs:scheduler_command",
        "Fire scheduled jobs: enqueue them (with REDIS_URL; one scheduler leads) or run "
        "them in this process (without Redis).",
    ),
    "serve": CommandSpec("cryptolens.commands.serve:serve", "Serve the web application."),
    "shell": CommandSpec("flask.cli:shell_command", "Run a shell in the app context."),
    "signals": CommandSpec(
        "cryptolens.commands.jobs:signals_group", "Signals found by the scanner."
    ),
    "stream": CommandSpec(
        "cryptolens.commands.stream:stream_command",
        "Serve the real-time feeds: SSE at /stream, WebSocket at /ws.",
        needs_app=False,
    ),
    "symbols": CommandSpec(
        "cryptolens.commands.market:symbols_group", "Watched symbols: add, list, remove."
    ),
    "up": CommandSpec(
        "cryptolens.commands.up:up",
        "Migrate, start the demo exchange (unless --live), load history, start the "
        "scheduler (and a worker when REDIS_URL is set) and the stream gateway, and serve.",
    ),
    "users": CommandSpec("cryptolens.commands.users:users_group", "User accounts."),
    "worker": CommandSpec(
        "cryptolens.commands.jobs:worker_command",
        "Run an RQ worker on the high, default and low queues (needs REDIS_URL).",
    ),
}


def load_command(name: str) -> click.Command:
    """Import the command ``name`` (a KeyError for an unknown name)."""
    module, _, attribute = COMMANDS[name].target.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name].target} is not a click command")
    return command


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        command = load_command(cmd_name)
        if spec.needs_app:
            _push_app_context(ctx)
        else:
            from cryptolens.config import load_settings

            load_settings()  # a bad setting stops every command, app or not
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The table's summaries, so that help imports no command module.
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, _shorten(spec.summary, limit)) for name, spec in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


def _shorten(summary: str, limit: int) -> str:
    # click's own shortening (its helper is private): a command built only to be measured.
    return click.Command(None, help=summary).get_short_help_str(limit)


def _push_app_context(ctx: click.Context) -> None:
    from flask import has_app_context

    # Tests (and a caller that already has an app) push their own context: use that one.
    if not has_app_context():
        from cryptolens.app import create_app

        app = create_app()
        _record_metrics_as_command(app)
        ctx.with_resource(app.app_context())


def _record_metrics_as_command(app: Flask) -> None:
    """With a multiprocess directory, a command records under its own name, never as a web
    process whose files gunicorn clears when it starts."""
    from cryptolens.infra import metrics, metrics_files
    from cryptolens.runtime import app_settings

    directory = app_settings(app).prometheus_multiproc_dir
    if directory is not None:
        metrics_files.clear_gone(directory)
        metrics.use_directory(directory, metrics_files.CLI_ROLE)


@click.group(
    "cryptolens",
    cls=LazyGroup,
    help="CryptoLens: Smart Money Concepts scanner for crypto markets.",
)
@click.version_option(__version__, prog_name="cryptolens")
def cli() -> None:
    pass


def _database_problem(exc: Exception) -> str:
    """One line naming what is wrong with the database, and what to do about it."""
    from cryptolens.config import load_settings

    url = load_settings().database
    where = url.render_as_string(hide_password=True)
    orig = getattr(exc, "orig", None)
    detail = str(orig if orig is not None else exc).strip().splitlines()[0]
    if _MISSING_TABLE.search(detail):
        return (
            f"the database {where} has no CryptoLens schema, or an old one ({detail}); "
            "run `cryptolens db upgrade`"
        )
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database or "").parent
        if not folder.is_dir():
            return f"cannot open the SQLite database {where}: the folder {folder} does not exist"
    return f"cannot use the database {where}: {detail}"


#: How SQLite, MariaDB/MySQL and PostgreSQL say a table is not there.
_MISSING_TABLE = re.compile(r"no such table|table .* doesn't exist|relation .* does not exist")


def main() -> None:
    """Entry point of the ``cryptolens`` console script."""
    try:
        cli.main(prog_name="cryptolens")
    except Exception as exc:
        # Only a command imports the settings module and SQLAlchemy (they cost --help a
        # second), and only then can a ConfigError or a database error be raised.
        config = sys.modules.get("cryptolens.config")
        if config is not None and isinstance(exc, config.ConfigError):
            click.echo(f"cryptolens: {exc}", err=True)
            sys.exit(2)
        sa_exc = sys.modules.get("sqlalchemy.exc")
        if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
            # Unreachable or unmigrated: a hint, never a traceback.
            click.echo(f"cryptolens: {_database_problem(exc)}", err=True)
            sys.exit(2)
        raise
