"""``cryptolens backup`` / ``cryptolens restore``: the database to one file and back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import URL

from cryptolens.db.backup import BackupError, backup, restore
from cryptolens.runtime import app_settings

_FILE = click.Path(dir_okay=False, path_type=Path)


def _carry_out(action: Callable[..., None], path: Path, force: bool, done: str) -> None:
    url: URL = app_settings(current_app).database
    try:
        action(url, path, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(done.format(db=url.render_as_string(hide_password=True), path=path))


@click.command("backup")
@click.argument("target", type=_FILE)
@click.option("--force", is_flag=True, help="Overwrite TARGET if it exists.")
def backup_command(target: Path, force: bool) -> None:
    """Back up the database to TARGET (SQLite: online copy; PostgreSQL: pg_dump custom format)."""
    _carry_out(backup, target, force, "backed up {db} to {path}")


@click.command("restore")
@click.argument("source", type=_FILE)
@click.option("--force", is_flag=True, help="Replace the contents of a database that has tables.")
def restore_command(source: Path, force: bool) -> None:
    """Restore the database from SOURCE, a file written by `cryptolens backup`."""
    _carry_out(restore, source, force, "restored {db} from {path}")
