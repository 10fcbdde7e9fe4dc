from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from cryptolens.db import migrate
from cryptolens.db.base import Base

EXPECTED_TABLES = {
    "symbols",
    "candles",
    "patterns",
    "signals",
    "signal_patterns",
    "settings",
    "job_runs",
    "users",
    "plans",
    "subscriptions",
    "user_tokens",
    "backup_codes",
    "outbox",
    "portfolios",
    "trades",
    "trade_fills",
    "trade_tags",
    "journal_entries",
    "portfolio_analytics_snapshots",
}


def test_upgrade_from_empty_creates_every_table(migrated_engine: Engine) -> None:
    migrate.downgrade(migrated_engine, "base")
    assert EXPECTED_TABLES.isdisjoint(inspect(migrated_engine).get_table_names())
    migrate.upgrade(migrated_engine)
    assert set(inspect(migrated_engine).get_table_names()) >= EXPECTED_TABLES
    with migrated_engine.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head_revision()


def test_migrations_match_the_models_exactly(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_architecture_indexes_exist(migrated_engine: Engine) -> None:
    inspector = inspect(migrated_engine)
    pattern_indexes = {ix["name"] for ix in inspector.get_indexes("patterns")}
    signal_indexes = {ix["name"] for ix in inspector.get_indexes("signals")}
    assert {"ix_patterns_status_formed_at", "ix_patterns_symbol_tf_status"} <= pattern_indexes
    assert {"ix_signals_status_created_at", "ix_signals_created_at"} <= signal_indexes
    candle_pk = inspector.get_pk_constraint("candles")["constrained_columns"]
    assert candle_pk == ["symbol_id", "timeframe", "open_time"]
