"""analytics snapshots: portfolios.analytics_revision and portfolio_analytics_snapshots

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc_datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _long_text() -> sa.types.TypeEngine[Any]:
    # db.portfolio.LongText: MariaDB's TEXT stops at 64 KB.
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("portfolios") as batch:
        batch.add_column(
            sa.Column("analytics_revision", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.create_table(
        "portfolio_analytics_snapshots",
        sa.Column(
            "portfolio_id",
            sa.Integer(),
            sa.ForeignKey("portfolios.id", ondelete="CASCADE"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", _utc_datetime(), nullable=False),
        sa.Column("compute_ms", sa.Double(), nullable=False),
        sa.Column("payload", _long_text(), nullable=False),
        sa.PrimaryKeyConstraint("portfolio_id", name=op.f("pk_portfolio_analytics_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("portfolio_analytics_snapshots")
    # Never recreate portfolios on SQLite: dropping the old table would cascade to the trades.
    with op.batch_alter_table("portfolios", recreate="never") as batch:
        batch.drop_column("analytics_revision")
