"""backtest runs, and each plan's longest backtest range (plans.backtest_days)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: domain.plans.PLANS as of this revision (a migration never imports the live definition).
BACKTEST_DAYS = {"free": 0, "pro": 0, "premium": 3 * 365 + 1}


def _utc_datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _long_text() -> sa.types.TypeEngine[Any]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("backtest_days", sa.Integer(), nullable=True))
    plans = sa.table("plans", sa.column("code", sa.String), sa.column("backtest_days", sa.Integer))
    for code, days in BACKTEST_DAYS.items():
        op.execute(plans.update().where(plans.c.code == code).values(backtest_days=days))
    op.create_table(
        "backtest_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("since", _utc_datetime(), nullable=False),
        sa.Column("until", _utc_datetime(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("code_version", sa.String(64), nullable=False),
        sa.Column("progress", sa.Double(), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("share_token", sa.String(64), nullable=True),
        sa.Column("metrics", _long_text(), nullable=True),
        sa.Column("trades", _long_text(), nullable=True),
        sa.Column("equity", _long_text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("started_at", _utc_datetime(), nullable=True),
        sa.Column("finished_at", _utc_datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_runs")),
        sa.UniqueConstraint("share_token", name=op.f("uq_backtest_runs_share_token")),
    )
    op.create_index("ix_backtest_runs_user_created_at", "backtest_runs", ["user_id", "created_at"])


def downgrade() -> None:
    # The index goes with the table (MariaDB's foreign key on user_id needs it until then).
    op.drop_table("backtest_runs")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("backtest_days")
