"""Backup and restore: a round trip on the test database (SQLite, or PostgreSQL with
TEST_DATABASE_URL), and the refusals that name their problem."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, make_url, select
from sqlalchemy.orm import Session

from cryptolens.db.backup import BackupError, backup, pg_environment, restore
from cryptolens.db.models import Symbol
from cryptolens.db.symbols import ensure_symbol
from tests.builders.db import clear_tables

PAIRS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


def _supported(engine: Engine) -> None:
    if engine.url.get_backend_name() not in ("sqlite", "postgresql"):
        with pytest.raises(BackupError, match="mariadb-dump"):
            backup(engine.url, Path("unused.dump"))
        pytest.skip("backup supports SQLite and PostgreSQL (MariaDB is refused, as checked)")


def _symbols(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Symbol.symbol).order_by(Symbol.symbol)))


def _store(engine: Engine) -> None:
    with Session(engine) as session:
        for pair in PAIRS:
            ensure_symbol(session, exchange="binance", symbol=pair)
        session.commit()


def test_a_restore_brings_back_the_data_as_it_was_backed_up(engine: Engine, tmp_path: Path) -> None:
    _supported(engine)
    _store(engine)
    target = tmp_path / "cryptolens.backup"
    backup(engine.url, target)
    with Session(engine) as session:
        session.execute(delete(Symbol).where(Symbol.symbol == "ETH/USDT"))
        session.commit()
    assert "ETH/USDT" not in _symbols(engine)
    engine.dispose()  # no pooled connection holds a lock on the tables being replaced

    restore(engine.url, target, force=True)

    assert _symbols(engine) == sorted(PAIRS)


def test_a_backup_refuses_an_existing_file_unless_forced(engine: Engine, tmp_path: Path) -> None:
    _supported(engine)
    target = tmp_path / "existing.backup"
    target.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists; pass --force"):
        backup(engine.url, target)
    assert target.read_bytes() == b"keep me"
    backup(engine.url, target, force=True)
    assert target.read_bytes() != b"keep me"


def test_a_restore_over_a_database_with_tables_is_refused_unless_forced(
    engine: Engine, tmp_path: Path
) -> None:
    _supported(engine)
    target = tmp_path / "cryptolens.backup"
    backup(engine.url, target)
    with pytest.raises(BackupError, match="is not empty; pass --force"):
        restore(engine.url, target)


def test_a_restore_refuses_a_file_that_is_not_a_backup(engine: Engine, tmp_path: Path) -> None:
    _supported(engine)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all")
    with pytest.raises(BackupError, match="is not a"):
        restore(engine.url, junk, force=True)
    with pytest.raises(BackupError, match="no backup file at"):
        restore(engine.url, tmp_path / "missing.backup", force=True)


def test_a_sqlite_backup_restores_into_a_fresh_file(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite"
    with sqlite3.connect(live) as connection:
        connection.execute("CREATE TABLE t (v TEXT)")
        connection.executemany("INSERT INTO t VALUES (?)", [("a",), ("b",)])
    connection.close()
    target = tmp_path / "copy.backup"
    backup(make_url(f"sqlite:///{live}"), target)
    fresh = tmp_path / "fresh.sqlite"
    restore(make_url(f"sqlite:///{fresh}"), target)
    with sqlite3.connect(fresh) as connection:
        assert connection.execute("SELECT v FROM t ORDER BY v").fetchall() == [("a",), ("b",)]
    connection.close()


def test_unsupported_backends_and_missing_databases_are_named(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="not mysql: use mariadb-dump"):
        backup(make_url("mysql+pymysql://root@127.0.0.1/x"), tmp_path / "x.backup")
    with pytest.raises(BackupError, match="no SQLite database at"):
        backup(make_url(f"sqlite:///{tmp_path / 'absent.sqlite'}"), tmp_path / "y.backup")
    with pytest.raises(BackupError, match=r"folder .* does not exist"):
        backup(make_url(f"sqlite:///{tmp_path / 'a.sqlite'}"), tmp_path / "no" / "z.backup")
    assert not list(tmp_path.glob("*.backup*"))


def test_the_password_goes_to_the_environment_not_the_command_line() -> None:
    url = make_url("postgresql+psycopg://app:s3cret@db.internal:5433/cryptolens")
    env = pg_environment(url, base={})
    assert env == {
        "PGHOST": "db.internal",
        "PGPORT": "5433",
        "PGUSER": "app",
        "PGPASSWORD": "s3cret",
        "PGDATABASE": "cryptolens",
    }


def test_a_failing_pg_dump_is_one_line_naming_the_database(tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    url = make_url("postgresql+psycopg://nobody:s3cret@127.0.0.1:1/absent")
    with pytest.raises(BackupError) as caught:
        backup(url, tmp_path / "absent.backup")
    message = str(caught.value)
    assert message.startswith("pg_dump failed on postgresql+psycopg://nobody:***@127.0.0.1:1/")
    assert "s3cret" not in message
    assert "\n" not in message
    assert not list(tmp_path.iterdir())
