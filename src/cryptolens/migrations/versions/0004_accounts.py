"""accounts: users, plans (seeded), subscriptions, tokens, backup codes, outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALL_PATTERNS = "fvg,liquidity_sweep,order_block"

# A frozen copy of domain.plans.PLANS as of this revision (a test keeps them equal).
PLAN_ROWS: list[dict[str, Any]] = [
    {
        "code": "free",
        "title": "Free",
        "rank": 0,
        "symbols": 1,
        "allowed_symbols": "BTC/USDT",
        "pattern_types": "fvg",
        "patterns_rows": 0,
        "signals_rows": 0,
        "notifications_per_day": 1,
        "notification_delay_seconds": 600,
        "portfolios": 0,
        "portfolio_trades_per_day": 0,
        "backtest": False,
        "api": False,
    },
    {
        "code": "pro",
        "title": "Pro",
        "rank": 1,
        "symbols": 5,
        "allowed_symbols": None,
        "pattern_types": _ALL_PATTERNS,
        "patterns_rows": 100,
        "signals_rows": 50,
        "notifications_per_day": 20,
        "notification_delay_seconds": 0,
        "portfolios": 1,
        "portfolio_trades_per_day": 5,
        "backtest": False,
        "api": False,
    },
    {
        "code": "premium",
        "title": "Premium",
        "rank": 2,
        "symbols": None,
        "allowed_symbols": None,
        "pattern_types": _ALL_PATTERNS,
        "patterns_rows": None,
        "signals_rows": None,
        "notifications_per_day": None,
        "notification_delay_seconds": 0,
        "portfolios": None,
        "portfolio_trades_per_day": None,
        "backtest": True,
        "api": True,
    },
]


def _utc_datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("email_verified_at", _utc_datetime(), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("totp_secret", sa.String(length=255), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("watchlist", sa.JSON(), nullable=True),
        sa.Column("notification_topic", sa.String(length=64), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("last_login_at", _utc_datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    plans = op.create_table(
        "plans",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("symbols", sa.Integer(), nullable=True),
        sa.Column("allowed_symbols", sa.String(length=255), nullable=True),
        sa.Column("pattern_types", sa.String(length=255), nullable=False),
        sa.Column("patterns_rows", sa.Integer(), nullable=True),
        sa.Column("signals_rows", sa.Integer(), nullable=True),
        sa.Column("notifications_per_day", sa.Integer(), nullable=True),
        sa.Column("notification_delay_seconds", sa.Integer(), nullable=False),
        sa.Column("portfolios", sa.Integer(), nullable=True),
        sa.Column("portfolio_trades_per_day", sa.Integer(), nullable=True),
        sa.Column("backtest", sa.Boolean(), nullable=False),
        sa.Column("api", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_plans")),
    )
    op.bulk_insert(plans, PLAN_ROWS)
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=16), nullable=False),
        sa.Column("started_at", _utc_datetime(), nullable=False),
        sa.Column("expires_at", _utc_datetime(), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        _user_fk("subscriptions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(
        "ix_subscriptions_user_id_started_at", "subscriptions", ["user_id", "started_at"]
    )
    op.create_table(
        "user_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("new_email", sa.String(length=254), nullable=True),
        sa.Column("expires_at", _utc_datetime(), nullable=False),
        sa.Column("used_at", _utc_datetime(), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        _user_fk("user_tokens"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_tokens_token_hash")),
    )
    op.create_index("ix_user_tokens_user_id_purpose", "user_tokens", ["user_id", "purpose"])
    op.create_table(
        "backup_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", _utc_datetime(), nullable=True),
        _user_fk("backup_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_codes")),
    )
    op.create_index("ix_backup_codes_user_id", "backup_codes", ["user_id"])
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("sent_at", _utc_datetime(), nullable=True),
        sa.Column("claimed_at", _utc_datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_status_created_at", "outbox", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("backup_codes")
    op.drop_table("user_tokens")
    op.drop_table("subscriptions")
    op.drop_table("plans")
    op.drop_table("users")
