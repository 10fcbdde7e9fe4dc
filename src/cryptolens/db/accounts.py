"""Account tables: users, plans (mirroring ``domain.plans``), subscriptions, one-time tokens,
2FA backup codes, the email outbox and server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cryptolens.clock import utcnow
from cryptolens.db.base import Base, UTCDateTime

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Bumped to end every session and remember cookie (logout everywhere, password change).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Fernet token of the TOTP secret (key derived from SECRET_KEY); set while pending too.
    totp_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    watchlist: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    notification_topic: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class PlanRow(Base):
    """A plan's limits; a mirror of ``domain.plans.PLANS`` for reporting and SQL joins."""

    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer)
    symbols: Mapped[int | None] = mapped_column(Integer, default=None)
    allowed_symbols: Mapped[str | None] = mapped_column(String(255), default=None)
    pattern_types: Mapped[str] = mapped_column(String(255))
    patterns_rows: Mapped[int | None] = mapped_column(Integer, default=None)
    signals_rows: Mapped[int | None] = mapped_column(Integer, default=None)
    notifications_per_day: Mapped[int | None] = mapped_column(Integer, default=None)
    notification_delay_seconds: Mapped[int] = mapped_column(Integer, default=0)
    portfolios: Mapped[int | None] = mapped_column(Integer, default=None)
    portfolio_trades_per_day: Mapped[int | None] = mapped_column(Integer, default=None)
    backtest: Mapped[bool] = mapped_column(Boolean, default=False)
    backtest_days: Mapped[int | None] = mapped_column(Integer, default=None)
    api: Mapped[bool] = mapped_column(Boolean, default=False)


class Subscription(Base):
    """A paid plan from ``started_at`` to ``expires_at`` (plus grace); none means Free.

    Bought plans also carry their billing period, the provider and its subscription id
    (``provider_ref``), whether they end at the period's end, and why they ended."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_user_id_started_at", "user_id", "started_at"),
        Index("ix_subscriptions_provider_provider_ref", "provider", "provider_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    plan: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    period: Mapped[str | None] = mapped_column(String(8), default=None)
    provider: Mapped[str | None] = mapped_column(String(16), default=None)
    provider_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    #: Why an administrator granted it (provider "manual").
    grant_reason: Mapped[str | None] = mapped_column(String(255), default=None)
    #: The provider's time of the state above: an older event changes nothing (out of order).
    provider_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: The period end the renewal reminder, and the expiry email, went out for.
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expiry_notified_for: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class UserToken(Base):
    """A single-use emailed token (verify, reset, change email); only its sha256 is kept."""

    __tablename__ = "user_tokens"
    __table_args__ = (Index("ix_user_tokens_user_id_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    new_email: Mapped[str | None] = mapped_column(String(254), default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BackupCode(Base):
    """A one-time 2FA backup code, stored as a sha256 digest."""

    __tablename__ = "backup_codes"
    __table_args__ = (Index("ix_backup_codes_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class OutboxEmail(Base):
    """A rendered email waiting for (or done with) delivery; jobs take its id."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: When a sender last took the row (a row "sending" long after this was abandoned).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class UserSession(Base):
    """A signed-in browser: checked on every request, revoked at sign-out.

    ``id`` is the sha256 of the token the cookie carries, so the table (and the account
    page, which names rows by id) never holds a usable credential.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
