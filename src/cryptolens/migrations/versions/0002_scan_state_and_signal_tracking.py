"""scan state, signal tracking and the exact zone extreme

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc_datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "scan_states",
        sa.Column("symbol_id", sa.Integer(), nullable=False),
        sa.Column("timeframe", sa.String(length=4), nullable=False),
        sa.Column("scanned_through", sa.BigInteger(), nullable=True),
        sa.Column("detector_state", sa.JSON(), nullable=True),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["symbol_id"],
            ["symbols.id"],
            name=op.f("fk_scan_states_symbol_id_symbols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("symbol_id", "timeframe", name=op.f("pk_scan_states")),
    )
    with op.batch_alter_table("patterns") as batch:
        batch.add_column(sa.Column("extreme", sa.Double(), nullable=True))
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("expires_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("targets_hit", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("tracked_through", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("atr", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signals") as batch:
        batch.drop_column("atr")
        batch.drop_column("tracked_through")
        batch.drop_column("targets_hit")
        batch.drop_column("expires_at")
    with op.batch_alter_table("patterns") as batch:
        batch.drop_column("extreme")
    op.drop_table("scan_states")
