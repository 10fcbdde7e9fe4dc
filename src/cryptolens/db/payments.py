"""Payment tables: every payment a provider reported (amounts as exact decimals, the raw
event with secrets stripped) and every webhook event received, unique per provider event id,
so a replayed event is recognised before anything is credited."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cryptolens.clock import utcnow
from cryptolens.db.base import Base, ExactDecimal, UTCDateTime


class Payment(Base):
    """One payment (a LemonSqueezy order or subscription invoice, a NOWPayments payment)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "provider_payment_id"),
        Index("ix_payments_user_id_created_at", "user_id", "created_at"),
        Index("ix_payments_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    #: LemonSqueezy "order:<id>" or "invoice:<id>"; NOWPayments the payment_id.
    provider_payment_id: Mapped[str] = mapped_column(String(64))
    provider_order_id: Mapped[str | None] = mapped_column(String(64), default=None)
    provider_subscription_id: Mapped[str | None] = mapped_column(String(64), default=None)
    provider_invoice_id: Mapped[str | None] = mapped_column(String(64), default=None)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    plan: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    currency: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    #: Whether this payment extended a subscription (exactly once).
    credited: Mapped[bool] = mapped_column(default=False)
    #: The provider's time of the status above (a later event with an older time is stale).
    provider_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    raw_event: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentEvent(Base):
    """One received webhook event; the unique (provider, event_id) makes replays no-ops."""

    __tablename__ = "payment_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        Index("ix_payment_events_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(160))
    event_type: Mapped[str] = mapped_column(String(48))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: credited, recorded, stale, ignored, rejected
    outcome: Mapped[str] = mapped_column(String(16), default="received")
    detail: Mapped[str | None] = mapped_column(Text, default=None)
