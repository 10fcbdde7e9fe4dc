"""notifications: channels, preferences, notifications, deliveries, attempts, quota, broadcasts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc_datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _big_id() -> sa.types.TypeEngine[Any]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _user_fk(ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete=ondelete)


def _channels() -> None:
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), _user_fk(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("target_encrypted", sa.Text(), nullable=False),
        sa.Column("display", sa.String(length=255), nullable=False),
        sa.Column("email_mode", sa.String(length=12), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("paused_at", _utc_datetime(), nullable=True),
        sa.Column("pause_reason", sa.String(length=255), nullable=True),
        sa.Column("paused_notified_at", _utc_datetime(), nullable=True),
        sa.Column("last_success_at", _utc_datetime(), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channels")),
        sa.UniqueConstraint("user_id", "kind", name="uq_notification_channels_kind"),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), _user_fk(), autoincrement=False, nullable=False),
        sa.Column("directions", sa.JSON(), nullable=False),
        sa.Column("min_confluence", sa.Integer(), nullable=False),
        sa.Column("symbols", sa.JSON(), nullable=True),
        sa.Column("timeframes", sa.JSON(), nullable=True),
        sa.Column("pattern_types", sa.JSON(), nullable=True),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("quiet_mode", sa.String(length=8), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preferences")),
    )


def _notifications() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("author_id", sa.Integer(), _user_fk("SET NULL"), nullable=True),
        sa.Column("audience", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), _user_fk(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column(
            "signal_id", _big_id(), sa.ForeignKey("signals.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "broadcast_id",
            sa.Integer(),
            sa.ForeignKey("broadcasts.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("deliver_after", _utc_datetime(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "source", name="uq_notifications_source"),
    )
    op.create_index(
        "ix_notifications_status_deliver_after", "notifications", ["status", "deliver_after"]
    )
    op.create_index("ix_notifications_signal_id", "notifications", ["signal_id"])


def _deliveries() -> None:
    op.create_table(
        "notification_deliveries",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column(
            "notification_id",
            _big_id(),
            sa.ForeignKey("notifications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "channel_id",
            sa.Integer(),
            sa.ForeignKey("notification_channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _utc_datetime(), nullable=False),
        sa.Column("lease_until", _utc_datetime(), nullable=True),
        sa.Column("first_attempt_at", _utc_datetime(), nullable=True),
        sa.Column("sent_at", _utc_datetime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("notification_id", "channel_id", name="uq_notification_deliveries"),
    )
    op.create_index(
        "ix_notification_deliveries_due", "notification_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_notification_deliveries_user", "notification_deliveries", ["user_id", "created_at"]
    )
    op.create_table(
        "notification_attempts",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column(
            "delivery_id",
            _big_id(),
            sa.ForeignKey("notification_deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", _utc_datetime(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempts")),
    )
    op.create_index("ix_notification_attempts_delivery", "notification_attempts", ["delivery_id"])
    op.create_table(
        "notification_quota",
        sa.Column("user_id", sa.Integer(), _user_fk(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_notification_quota")),
    )


def upgrade() -> None:
    _channels()
    _notifications()
    _deliveries()


def downgrade() -> None:
    for table in (
        "notification_quota",
        "notification_attempts",
        "notification_deliveries",
        "notifications",
        "broadcasts",
        "notification_preferences",
        "notification_channels",
    ):
        op.drop_table(table)
