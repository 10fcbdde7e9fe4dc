"""market domain schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc_datetime() -> sa.types.TypeEngine[Any]:
    """UTC datetimes, with microseconds on MariaDB/MySQL."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("started_at", _utc_datetime(), nullable=False),
        sa.Column("finished_at", _utc_datetime(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index("ix_job_runs_name_started_at", "job_runs", ["name", "started_at"], unique=False)

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "symbols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("base", sa.String(length=16), nullable=False),
        sa.Column("quote", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("deactivated_reason", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_symbols")),
        sa.UniqueConstraint("exchange", "symbol", name=op.f("uq_symbols_exchange_symbol")),
    )
    op.create_table(
        "candles",
        sa.Column("symbol_id", sa.Integer(), nullable=False),
        sa.Column("timeframe", sa.String(length=4), nullable=False),
        sa.Column("open_time", sa.BigInteger(), nullable=False),
        sa.Column("open", sa.Double(), nullable=False),
        sa.Column("high", sa.Double(), nullable=False),
        sa.Column("low", sa.Double(), nullable=False),
        sa.Column("close", sa.Double(), nullable=False),
        sa.Column("volume", sa.Double(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["symbol_id"],
            ["symbols.id"],
            name=op.f("fk_candles_symbol_id_symbols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("symbol_id", "timeframe", "open_time", name=op.f("pk_candles")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "patterns",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("symbol_id", sa.Integer(), nullable=False),
        sa.Column("timeframe", sa.String(length=4), nullable=False),
        sa.Column("pattern_type", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("zone_low", sa.Double(), nullable=False),
        sa.Column("zone_high", sa.Double(), nullable=False),
        sa.Column("candle_time", sa.BigInteger(), nullable=False),
        sa.Column("formed_at", sa.BigInteger(), nullable=False),
        sa.Column("strength", sa.Double(), nullable=False),
        sa.Column("strength_inputs", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("fill_fraction", sa.Double(), nullable=False),
        sa.Column("touched_at", sa.BigInteger(), nullable=True),
        sa.Column("filled_at", sa.BigInteger(), nullable=True),
        sa.Column("invalidated_at", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("expired_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["symbol_id"],
            ["symbols.id"],
            name=op.f("fk_patterns_symbol_id_symbols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patterns")),
        sa.UniqueConstraint(
            "symbol_id",
            "timeframe",
            "pattern_type",
            "direction",
            "formed_at",
            name="uq_patterns_identity",
        ),
    )
    op.create_index(
        "ix_patterns_status_formed_at", "patterns", ["status", "formed_at"], unique=False
    )
    op.create_index(
        "ix_patterns_symbol_tf_status",
        "patterns",
        ["symbol_id", "timeframe", "status"],
        unique=False,
    )

    op.create_table(
        "signals",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("symbol_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("confluence", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("timeframes", sa.String(length=64), nullable=False),
        sa.Column("entry", sa.Double(), nullable=False),
        sa.Column("stop", sa.Double(), nullable=False),
        sa.Column("target_1", sa.Double(), nullable=False),
        sa.Column("target_2", sa.Double(), nullable=False),
        sa.Column("target_3", sa.Double(), nullable=False),
        sa.Column("risk_reward", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("r_multiple", sa.Double(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("triggered_at", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", _utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["symbol_id"],
            ["symbols.id"],
            name=op.f("fk_signals_symbol_id_symbols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.UniqueConstraint("symbol_id", "direction", "created_at", name="uq_signals_identity"),
    )
    op.create_index("ix_signals_created_at", "signals", ["created_at"], unique=False)
    op.create_index(
        "ix_signals_status_created_at", "signals", ["status", "created_at"], unique=False
    )

    op.create_table(
        "signal_patterns",
        sa.Column("signal_id", BIG_ID, nullable=False),
        sa.Column("pattern_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["pattern_id"],
            ["patterns.id"],
            name=op.f("fk_signal_patterns_pattern_id_patterns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["signals.id"],
            name=op.f("fk_signal_patterns_signal_id_signals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("signal_id", "pattern_id", name=op.f("pk_signal_patterns")),
    )


def downgrade() -> None:
    op.drop_table("signal_patterns")
    op.drop_table("signals")
    op.drop_table("patterns")
    op.drop_table("candles")
    op.drop_table("symbols")
    op.drop_table("settings")
    op.drop_table("job_runs")
