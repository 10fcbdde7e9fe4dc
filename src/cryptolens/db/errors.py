"""Error tracking: one row per fingerprint (exception type and where it was raised)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cryptolens.clock import utcnow
from cryptolens.db.base import Base, UTCDateTime

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class ErrorGroup(Base):
    """Every occurrence of one fingerprint: how often, when first and last, a sample
    traceback and the (scrubbed) context of the latest one; ``resolved_at`` set by an
    administrator and cleared when the error comes back."""

    __tablename__ = "error_groups"
    __table_args__ = (Index("ix_error_groups_status_last_seen", "status", "last_seen"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    exc_type: Mapped[str] = mapped_column(String(255))
    module: Mapped[str] = mapped_column(String(255))
    function: Mapped[str] = mapped_column(String(255))
    line: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    count: Mapped[int] = mapped_column(BigInteger, default=1)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="open")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
