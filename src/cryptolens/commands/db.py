"""``cryptolens db``: schema migrations."""

from __future__ import annotations

import click

from cryptolens.db import migrate
from cryptolens.extensions import db


@click.group("db")
def db_group() -> None:
    """Database schema migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database schema up to REVISION (default: head)."""
    migrate.upgrade(db.engine, revision)
    click.echo(f"database at {migrate.head_revision() if revision == 'head' else revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database schema down to REVISION (``base`` removes everything)."""
    migrate.downgrade(db.engine, revision)
    click.echo(f"database at {revision}")


@db_group.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the newest one available."""
    with db.engine.connect() as connection:
        current = migrate.current_revision(connection)
    click.echo(f"current: {current or 'empty'}  head: {migrate.head_revision()}")
