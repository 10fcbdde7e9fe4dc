"""The ``cryptolens`` command line: a Flask CLI group; each area adds its own commands."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from sqlalchemy.exc import DBAPIError

from cryptolens.config import ConfigError, Settings, load_settings
from cryptolens.extensions import db
from cryptolens.version import __version__
from cryptolens.web.state import app_settings


@click.group("db")
def db_group() -> None:
    """Database schema migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database schema up to REVISION (default: head)."""
    from cryptolens.db import migrate

    migrate.upgrade(db.engine, revision)
    click.echo(f"database at {migrate.head_revision() if revision == 'head' else revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database schema down to REVISION (``base`` removes everything)."""
    from cryptolens.db import migrate

    migrate.downgrade(db.engine, revision)
    click.echo(f"database at {revision}")


@db_group.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the newest one available."""
    from cryptolens.db import migrate

    with db.engine.connect() as connection:
        current = migrate.current_revision(connection)
    click.echo(f"current: {current or 'empty'}  head: {migrate.head_revision()}")


@click.command("serve")
@click.option("--production", is_flag=True, help="Serve with gunicorn (gunicorn.conf settings).")
@click.option("--host", default=None, help="Address to bind (default: HOST setting).")
@click.option("--port", default=None, type=int, help="Port to bind (default: PORT setting).")
def serve(production: bool, host: str | None, port: int | None) -> None:
    """Serve the web application."""
    settings = app_settings(current_app)
    host = host or settings.host
    port = port or settings.port
    if production:
        if not settings.is_production:
            # Without it gunicorn would run with development settings: the public
            # development SECRET_KEY (anyone could forge sessions) and insecure cookies.
            click.echo(
                "cryptolens: serve --production needs CRYPTOLENS_ENV=production "
                "(and a random SECRET_KEY); refusing to serve with development settings",
                err=True,
            )
            sys.exit(2)
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:cryptolens.gunicorn_conf",
            "--bind",
            f"{host}:{port}",
            "cryptolens:create_app()",
        ]
        os.execv(sys.executable, args)  # noqa: S606  (replace this process with gunicorn)
    from werkzeug.serving import run_simple

    from cryptolens.web.serving import QuietRequestHandler

    # Flask refuses app.run() under its own CLI; serve the same app with werkzeug directly.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_simple(
        host,
        port,
        app,
        use_reloader=False,
        use_debugger=False,
        threaded=True,
        request_handler=QuietRequestHandler,
    )


def register_commands(app: Flask) -> None:
    """Attach every command group to ``app.cli``."""
    app.cli.add_command(db_group)
    app.cli.add_command(serve)
    for register in _command_modules():
        register(app)


def _command_modules() -> list[Any]:
    """Areas that own commands register them here, keeping this module small."""
    from cryptolens.commands import health, jobs, market, up, users

    return [market.register, jobs.register, health.register, users.register, up.register]


def _create_app() -> Flask:
    from cryptolens import create_app

    return create_app()


cli = FlaskGroup(
    name="cryptolens",
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    help="CryptoLens: Smart Money Concepts scanner for crypto markets.",
)
# Settings are read by cryptolens.config alone, and the app is always ours: drop Flask's
# --env-file and --app options.
cli.params = [p for p in cli.params if p.name not in ("env_file", "app")]
cli = click.version_option(__version__, prog_name="cryptolens")(cli)


def _database_problem(exc: DBAPIError, settings: Settings) -> str:
    """One line naming what is wrong with the database, and what to do about it."""
    url = settings.database
    where = url.render_as_string(hide_password=True)
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
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
        settings = load_settings()
    except ConfigError as exc:
        click.echo(f"cryptolens: {exc}", err=True)
        sys.exit(2)
    try:
        cli.main(prog_name="cryptolens")
    except DBAPIError as exc:  # unreachable or unmigrated: a hint, never a traceback
        click.echo(f"cryptolens: {_database_problem(exc, settings)}", err=True)
        sys.exit(2)
