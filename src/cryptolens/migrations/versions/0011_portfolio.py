"""portfolio: portfolios, trades with their derived figures, fills, tags, journal entries

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-15
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc_datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _big_id() -> sa.types.TypeEngine[Any]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _decimal() -> sa.types.TypeEngine[Any]:
    # db.base.ExactDecimal: exact Numeric(28, 10), or its canonical text on SQLite.
    return sa.Numeric(28, 10).with_variant(sa.String(32), "sqlite")


def _money(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, _decimal(), nullable=nullable)


def _text(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=False)


def _stamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
    ]


def _portfolios() -> None:
    op.create_table(
        "portfolios",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        _text("description"),
        sa.Column("quote_currency", sa.String(length=10), nullable=False),
        _money("initial_balance"),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolios")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_portfolios_user_id_name")),
    )


def _trades() -> None:
    op.create_table(
        "trades",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column(
            "portfolio_id",
            sa.Integer(),
            sa.ForeignKey("portfolios.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=6), nullable=False),
        _money("planned_stop"),
        _money("target_1", nullable=True),
        _money("target_2", nullable=True),
        _money("target_3", nullable=True),
        sa.Column("setup", sa.String(length=60), nullable=True),
        _text("notes"),
        _text("mistakes"),
        _text("emotions"),
        sa.Column(
            "signal_id",
            _big_id(),
            sa.ForeignKey("signals.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("opened_at", _utc_datetime(), nullable=False),
        sa.Column("closed_at", _utc_datetime(), nullable=True),
        _money("quantity"),
        _money("open_quantity"),
        _money("avg_entry"),
        _money("avg_exit", nullable=True),
        _money("fees"),
        _money("realized_pnl"),
        _money("risk_amount"),
        _money("r_multiple", nullable=True),
        sa.Column("holding_seconds", sa.BigInteger(), nullable=True),
        sa.Column("local_weekday", sa.SmallInteger(), nullable=True),
        sa.Column("local_hour", sa.SmallInteger(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trades")),
    )
    op.create_index(
        "ix_trades_portfolio_status_closed_at", "trades", ["portfolio_id", "status", "closed_at"]
    )
    op.create_index("ix_trades_user_created_at", "trades", ["user_id", "created_at"])
    op.create_index("ix_trades_signal_id", "trades", ["signal_id"])


def _fills_and_tags() -> None:
    op.create_table(
        "trade_fills",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column(
            "trade_id", _big_id(), sa.ForeignKey("trades.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("side", sa.String(length=5), nullable=False),
        sa.Column("at", _utc_datetime(), nullable=False),
        _money("price"),
        _money("quantity"),
        _money("fee"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_fills")),
    )
    op.create_index("ix_trade_fills_trade_at", "trade_fills", ["trade_id", "at"])
    op.create_table(
        "trade_tags",
        sa.Column(
            "trade_id",
            _big_id(),
            sa.ForeignKey("trades.id", ondelete="CASCADE"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("trade_id", "tag", name=op.f("pk_trade_tags")),
    )
    op.create_index("ix_trade_tags_tag", "trade_tags", ["tag"])


def _journal() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "portfolio_id",
            sa.Integer(),
            sa.ForeignKey("portfolios.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "trade_id", _big_id(), sa.ForeignKey("trades.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("day", sa.Date(), nullable=False),
        _text("body"),
        _text("mistakes"),
        _text("emotions"),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    op.create_index("ix_journal_entries_portfolio_day", "journal_entries", ["portfolio_id", "day"])
    op.create_index("ix_journal_entries_trade_id", "journal_entries", ["trade_id"])


def upgrade() -> None:
    _portfolios()
    _trades()
    _fills_and_tags()
    _journal()


def downgrade() -> None:
    op.drop_table("journal_entries")
    op.drop_table("trade_tags")
    op.drop_table("trade_fills")
    op.drop_table("trades")
    op.drop_table("portfolios")
