"""Market-domain tables. Market times (candle open, zone formation, lifecycle events) are
epoch milliseconds on the exchange's clock; application times are aware UTC datetimes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cryptolens.clock import utcnow
from cryptolens.db.base import Base, UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Symbol(Base):
    __tablename__ = "symbols"
    __table_args__ = (UniqueConstraint("exchange", "symbol"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(32))
    base: Mapped[str] = mapped_column(String(16))
    quote: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deactivated_reason: Mapped[str | None] = mapped_column(String(255), default=None)


class Candle(Base):
    """One OHLCV candle; ``complete`` is false for an aggregate built over an exchange hole."""

    __tablename__ = "candles"
    # SQLite: cluster rows on the primary key (one B-tree instead of table + index).
    __table_args__ = {"sqlite_with_rowid": False}

    symbol_id: Mapped[int] = mapped_column(
        ForeignKey("symbols.id", ondelete="CASCADE"), primary_key=True
    )
    timeframe: Mapped[str] = mapped_column(String(4), primary_key=True)
    open_time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    close: Mapped[float] = mapped_column(Double)
    volume: Mapped[float] = mapped_column(Double)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)


class KnownGap(Base):
    """A stretch of ``timeframe`` candles the exchange itself does not have (it answered
    without them, consistently): reported by the health check, but not an alarm."""

    __tablename__ = "known_gaps"

    symbol_id: Mapped[int] = mapped_column(
        ForeignKey("symbols.id", ondelete="CASCADE"), primary_key=True
    )
    timeframe: Mapped[str] = mapped_column(String(4), primary_key=True)
    start_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(255))


class Pattern(Base):
    """A detected zone and its lifecycle."""

    __tablename__ = "patterns"
    __table_args__ = (
        UniqueConstraint(
            "symbol_id",
            "timeframe",
            "pattern_type",
            "direction",
            "formed_at",
            name="uq_patterns_identity",
        ),
        Index("ix_patterns_status_formed_at", "status", "formed_at"),
        Index("ix_patterns_symbol_tf_status", "symbol_id", "timeframe", "status"),
        Index("ix_patterns_formed_at", "formed_at"),
        Index("ix_patterns_symbol_tf_formed_at", "symbol_id", "timeframe", "formed_at"),
        Index("ix_patterns_symbol_formed_at", "symbol_id", "formed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id", ondelete="CASCADE"))
    timeframe: Mapped[str] = mapped_column(String(4))
    pattern_type: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(8))
    zone_low: Mapped[float] = mapped_column(Double)
    zone_high: Mapped[float] = mapped_column(Double)
    candle_time: Mapped[int] = mapped_column(BigInteger)
    formed_at: Mapped[int] = mapped_column(BigInteger)
    strength: Mapped[float] = mapped_column(Double)
    strength_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    status: Mapped[str] = mapped_column(String(12), default="active")
    fill_fraction: Mapped[float] = mapped_column(Double, default=0.0)
    #: Deepest price reached into the zone, kept exactly so the lifecycle resumes exactly.
    extreme: Mapped[float | None] = mapped_column(Double, default=None)
    touched_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    filled_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    invalidated_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    expired_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    #: The zone-quality model's probability of holding, at detection (None: no model then).
    quality_probability: Mapped[float | None] = mapped_column(Double, default=None)
    quality_model_version: Mapped[str | None] = mapped_column(String(20), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Signal(Base):
    """A confluence signal with its levels and tracked outcome."""

    __tablename__ = "signals"
    __table_args__ = (
        UniqueConstraint("symbol_id", "direction", "created_at", name="uq_signals_identity"),
        Index("ix_signals_status_created_at", "status", "created_at"),
        Index("ix_signals_created_at", "created_at"),
        Index("ix_signals_symbol_created_at", "symbol_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))
    confluence: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Double)
    timeframes: Mapped[str] = mapped_column(String(64))
    entry: Mapped[float] = mapped_column(Double)
    stop: Mapped[float] = mapped_column(Double)
    target_1: Mapped[float] = mapped_column(Double)
    target_2: Mapped[float] = mapped_column(Double)
    target_3: Mapped[float] = mapped_column(Double)
    risk_reward: Mapped[float] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    outcome: Mapped[str | None] = mapped_column(String(12), default=None)
    r_multiple: Mapped[float | None] = mapped_column(Double, default=None)
    created_at: Mapped[int] = mapped_column(BigInteger)
    triggered_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    closed_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # The entry order is cancelled if not triggered by then (epoch ms, exchange clock).
    expires_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    targets_hit: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Base-timeframe open time through which the outcome has been followed.
    tracked_through: Mapped[int | None] = mapped_column(BigInteger, default=None)
    atr: Mapped[float | None] = mapped_column(Double, default=None)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patterns: Mapped[list[Pattern]] = relationship(secondary="signal_patterns", lazy="raise")


class ScanState(Base):
    """How far the scanner has processed one symbol's timeframe, and the detector state there."""

    __tablename__ = "scan_states"

    symbol_id: Mapped[int] = mapped_column(
        ForeignKey("symbols.id", ondelete="CASCADE"), primary_key=True
    )
    timeframe: Mapped[str] = mapped_column(String(4), primary_key=True)
    # Open time of the last closed candle the detectors and lifecycle have consumed.
    scanned_through: Mapped[int | None] = mapped_column(BigInteger, default=None)
    detector_state: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SignalPattern(Base):
    """The zones that made a signal."""

    __tablename__ = "signal_patterns"

    signal_id: Mapped[int] = mapped_column(
        ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True
    )
    pattern_id: Mapped[int] = mapped_column(
        ForeignKey("patterns.id", ondelete="CASCADE"), primary_key=True
    )


class Setting(Base):
    """Global key/value settings, editable by administrators."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class JobRun(Base):
    """A durable record of one run of a background job."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_name_started_at", "name", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64), default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    status: Mapped[str] = mapped_column(String(12), default="running")
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


# Account tables live in their own module; importing them here registers them on Base.
from cryptolens.db.accounts import (  # noqa: E402
    BackupCode,
    OutboxEmail,
    PlanRow,
    Subscription,
    User,
    UserSession,
    UserToken,
)
from cryptolens.db.api_keys import ApiKey, ApiKeyUsage  # noqa: E402
from cryptolens.db.attempts import AuthAttempt  # noqa: E402
from cryptolens.db.audit import AuditEntry  # noqa: E402
from cryptolens.db.backtests import BacktestRun  # noqa: E402
from cryptolens.db.errors import ErrorGroup  # noqa: E402
from cryptolens.db.events import EventCursor, EventRow  # noqa: E402
from cryptolens.db.notifications import (  # noqa: E402
    Broadcast,
    Notification,
    NotificationAttempt,
    NotificationChannel,
    NotificationDelivery,
    NotificationPreference,
    NotificationQuota,
)
from cryptolens.db.payments import Payment, PaymentEvent  # noqa: E402
from cryptolens.db.portfolio import (  # noqa: E402
    JournalEntry,
    Portfolio,
    Trade,
    TradeFill,
    TradeTag,
)

__all__ = [
    "ApiKey",
    "ApiKeyUsage",
    "AuditEntry",
    "AuthAttempt",
    "BacktestRun",
    "BackupCode",
    "Broadcast",
    "Candle",
    "ErrorGroup",
    "EventCursor",
    "EventRow",
    "JobRun",
    "JournalEntry",
    "KnownGap",
    "Notification",
    "NotificationAttempt",
    "NotificationChannel",
    "NotificationDelivery",
    "NotificationPreference",
    "NotificationQuota",
    "OutboxEmail",
    "Pattern",
    "Payment",
    "PaymentEvent",
    "PlanRow",
    "Portfolio",
    "ScanState",
    "Setting",
    "Signal",
    "SignalPattern",
    "Subscription",
    "Symbol",
    "Trade",
    "TradeFill",
    "TradeTag",
    "User",
    "UserSession",
    "UserToken",
]
