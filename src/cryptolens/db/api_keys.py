"""API keys: only a keyed hash of the secret is stored; ``lookup_id`` (the public part of the
key) finds the row with one indexed query. Usage is counted elsewhere and written here in
batches (``api_key_usage``, ``last_used_*``), never once per request."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cryptolens.clock import utcnow
from cryptolens.db.base import Base, UTCDateTime


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    lookup_id: Mapped[str] = mapped_column(String(16), unique=True)
    #: HMAC-SHA256 (hex) of the secret part, keyed with a pepper derived from SECRET_KEY.
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    allow: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    deny: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    limit_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    limit_hour: Mapped[int | None] = mapped_column(Integer, default=None)
    limit_day: Mapped[int | None] = mapped_column(Integer, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: Set by rotation: the key that replaced this one, which stays valid until grace_until.
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), default=None
    )
    grace_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_used_ip: Mapped[str | None] = mapped_column(String(45), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKeyUsage(Base):
    """Requests made with one key on one UTC day."""

    __tablename__ = "api_key_usage"

    key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
