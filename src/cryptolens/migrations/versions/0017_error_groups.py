"""error_groups: unhandled exceptions, one row per fingerprint (type and location)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc_datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "error_groups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("exc_type", sa.String(255), nullable=False),
        sa.Column("module", sa.String(255), nullable=False),
        sa.Column("function", sa.String(255), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", _utc_datetime(), nullable=False),
        sa.Column("last_seen", _utc_datetime(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("resolved_at", _utc_datetime(), nullable=True),
        sa.Column("alerted_at", _utc_datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_groups")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_error_groups_fingerprint")),
    )
    op.create_index("ix_error_groups_status_last_seen", "error_groups", ["status", "last_seen"])


def downgrade() -> None:
    op.drop_index("ix_error_groups_status_last_seen", table_name="error_groups")
    op.drop_table("error_groups")
