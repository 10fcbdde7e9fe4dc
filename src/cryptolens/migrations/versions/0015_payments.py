"""payments, payment_events (unique per provider event id) and what a bought subscription
needs (period, provider reference, cancellation at period end, why it ended or
was granted)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc_datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _decimal() -> sa.types.TypeEngine[Any]:
    # db.base.ExactDecimal: exact Numeric(28, 10), or its canonical text on SQLite.
    return sa.Numeric(28, 10).with_variant(sa.String(32), "sqlite")


SUBSCRIPTION_COLUMNS = (
    ("period", sa.String(8)),
    ("provider", sa.String(16)),
    ("provider_ref", sa.String(64)),
    ("ended_at", _utc_datetime()),
    ("ended_reason", sa.String(16)),
    ("grant_reason", sa.String(255)),
    ("provider_updated_at", _utc_datetime()),
    ("reminded_for", _utc_datetime()),
    ("expiry_notified_for", _utc_datetime()),
)


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_payment_id", sa.String(64), nullable=False),
        sa.Column("provider_order_id", sa.String(64), nullable=True),
        sa.Column("provider_subscription_id", sa.String(64), nullable=True),
        sa.Column("provider_invoice_id", sa.String(64), nullable=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("plan", sa.String(16), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("amount", _decimal(), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("credited", sa.Boolean(), nullable=False),
        sa.Column("provider_updated_at", _utc_datetime(), nullable=True),
        sa.Column("raw_event", sa.JSON(), nullable=True),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "provider", "provider_payment_id", name=op.f("uq_payments_provider_provider_payment_id")
        ),
    )
    op.create_index("ix_payments_user_id_created_at", "payments", ["user_id", "created_at"])
    op.create_index("ix_payments_status_created_at", "payments", ["status", "created_at"])
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(160), nullable=False),
        sa.Column("event_type", sa.String(48), nullable=False),
        sa.Column("received_at", _utc_datetime(), nullable=False),
        sa.Column("processed_at", _utc_datetime(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_payment_events_provider_event_id")
        ),
    )
    op.create_index("ix_payment_events_received_at", "payment_events", ["received_at"])
    with op.batch_alter_table("subscriptions") as batch:
        for name, type_ in SUBSCRIPTION_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.add_column(
            sa.Column(
                "cancel_at_period_end", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.alter_column("cancel_at_period_end", server_default=None)
    op.create_index(
        "ix_subscriptions_provider_provider_ref", "subscriptions", ["provider", "provider_ref"]
    )


def downgrade() -> None:
    op.drop_index("ix_subscriptions_provider_provider_ref", table_name="subscriptions")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("cancel_at_period_end")
        for name, _type in reversed(SUBSCRIPTION_COLUMNS):
            batch.drop_column(name)
    op.drop_table("payment_events")
    op.drop_table("payments")
