"""Engines outside Flask (CLI, workers, benchmarks) and the per-connection SQLite pragmas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from cryptolens.config import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_timeout_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web read while the scanner writes; NORMAL sync is safe under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def configure_engine(engine: Engine, settings: Settings) -> Engine:
    """Attach dialect-specific connection set-up (SQLite: WAL, busy timeout, foreign keys)."""
    if engine.dialect.name == "sqlite":
        timeout_ms = int(settings.sqlite_timeout * 1000)

        def on_connect(dbapi_connection: Any, record: Any) -> None:
            _sqlite_pragmas(dbapi_connection, record, busy_timeout_ms=timeout_ms)

        event.listen(engine, "connect", on_connect)
    return engine


def ensure_sqlite_directory(settings: Settings) -> None:
    """Create the instance folder of the default SQLite database so first start-up just works.

    Only the default: a configured ``DATABASE_URL`` naming a folder that does not exist is
    more likely a typo than a wish, and silently creating it would hide that.
    """
    if settings.database_url:
        return
    try:
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        # Not creatable: connecting will fail and the command says so in one line.
        return


def create_engine_for(settings: Settings) -> Engine:
    """A configured engine for the settings' database: the one every entry point uses."""
    ensure_sqlite_directory(settings)
    url = settings.database
    options = settings.engine_options()
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # One shared connection, or every pooled connection would see its own empty database.
        options["poolclass"] = StaticPool
    elif url.get_backend_name() in ("mysql", "mariadb") and "charset" not in url.query:
        # Four-byte UTF-8 (emoji in names); MySQL's "utf8" is three bytes.
        url = url.update_query_dict({"charset": "utf8mb4"})
    return configure_engine(create_engine(url, **options), settings)
