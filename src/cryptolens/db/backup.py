"""Backups of the database to one file, and restores from one: SQLite through its online
backup API (a consistent copy while the app writes), PostgreSQL with pg_dump/pg_restore in
their custom format. The password goes to the client tools in PGPASSWORD, never on their
command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from sqlalchemy import URL, create_engine, inspect

from cryptolens.domain.errors import CryptoLensError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
#: Pages copied per step of the SQLite online backup; writers get the lock between steps.
SQLITE_PAGES_PER_STEP = 1024


class BackupError(CryptoLensError):
    """A backup or restore that cannot be done, and why."""


def backup(url: URL, target: Path, *, force: bool = False) -> None:
    """Write the database at ``url`` to ``target`` (refused if it exists, unless ``force``)."""
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; pass --force to overwrite it")
    if target.exists() and target.is_dir():
        raise BackupError(f"{target} is a directory, not a file")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    backend = url.get_backend_name()
    partial = target.with_name(target.name + ".partial")
    try:
        if backend == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        elif backend == "postgresql":
            _run_pg(url, ["pg_dump", "--format=custom", "--no-owner", f"--file={partial}"])
        else:
            raise BackupError(_unsupported(url))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def restore(url: URL, source: Path, *, force: bool = False) -> None:
    """Replace the database at ``url`` with the backup in ``source``; a database that has
    tables is refused unless ``force``."""
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(_unsupported(url))
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    head = _head(source)
    expected = SQLITE_MAGIC if backend == "sqlite" else PG_CUSTOM_MAGIC
    if not head.startswith(expected):
        kind = "SQLite database" if backend == "sqlite" else "pg_dump custom-format archive"
        raise BackupError(f"{source} is not a {kind}, so it cannot be restored into {backend}")
    if not force and has_tables(url):
        raise BackupError(
            f"the database {_where(url)} is not empty; pass --force to replace its contents"
        )
    if backend == "sqlite":
        _sqlite_restore(source, _sqlite_path(url))
    else:
        _run_pg(
            url,
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                str(source),
            ],
            database_flag=True,
        )


def has_tables(url: URL) -> bool:
    """Whether the database at ``url`` holds any table."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return bool(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def pg_environment(url: URL, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the PostgreSQL client tools: PG* variables from ``url``."""
    env = dict(os.environ if base is None else base)
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[name] = str(value)
    return env


def _run_pg(url: URL, args: Sequence[str], *, database_flag: bool = False) -> None:
    tool = args[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (it comes with the PostgreSQL client)")
    command = list(args)
    if database_flag:
        command.insert(1, f"--dbname={url.database}")
    done = subprocess.run(  # the fixed tool, our arguments, no shell
        command, env=pg_environment(url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        first = detail[0] if detail else f"exit status {done.returncode}"
        raise BackupError(f"{tool} failed on {_where(url)}: {first}")


def _sqlite_backup(path: Path, target: Path) -> None:
    if not path.is_file():
        raise BackupError(f"no SQLite database at {path}")
    with (
        closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy, pages=SQLITE_PAGES_PER_STEP)


def _sqlite_restore(source: Path, path: Path) -> None:
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist")
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as saved,
        closing(sqlite3.connect(path)) as live,
    ):
        problem = saved.execute("PRAGMA quick_check").fetchone()
        if problem is None or problem[0] != "ok":
            raise BackupError(f"{source} is damaged: {problem[0] if problem else 'unreadable'}")
        saved.backup(live, pages=SQLITE_PAGES_PER_STEP)


def _sqlite_path(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database has nothing to back up or restore")
    return Path(url.database or "")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(16)


def _where(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _unsupported(url: URL) -> str:
    backend = url.get_backend_name()
    if backend in ("mysql", "mariadb"):
        return (
            f"backup and restore support SQLite and PostgreSQL, not {backend}: "
            "use mariadb-dump (and the mariadb client to restore)"
        )
    return f"backup and restore support SQLite and PostgreSQL, not {backend}"
