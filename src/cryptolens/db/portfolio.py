"""Portfolio tables: a user's portfolios, their trades (one row per trade with the figures
derived from its fills, recomputed by the service on every change), the fills themselves,
free tags, journal entries (per day, optionally about one trade), and each portfolio's
analytics snapshot.

Money and quantities are ``ExactDecimal`` (never floats). ``trades.user_id`` repeats the
portfolio's owner so owner checks and per-owner counts need no join.

``portfolios.analytics_revision`` moves on every write that changes what the analytics show
(``services.portfolio.revision.touch``); a snapshot is current only while its ``revision``
equals it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from cryptolens.clock import utcnow
from cryptolens.db.base import Base, ExactDecimal, UTCDateTime

_BigId = BigInteger().with_variant(Integer(), "sqlite")
#: MariaDB's TEXT holds 64 KB; a snapshot of many symbols and tags may need more.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class Portfolio(Base):
    __tablename__ = "portfolios"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    quote_currency: Mapped[str] = mapped_column(String(10))
    initial_balance: Mapped[Decimal] = mapped_column(ExactDecimal())
    analytics_revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PortfolioAnalyticsSnapshot(Base):
    """The trade-derived analytics of a portfolio as of ``revision`` (JSON, see
    ``services.portfolio.analytics_codec``)."""

    __tablename__ = "portfolio_analytics_snapshots"

    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    revision: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    compute_ms: Mapped[float] = mapped_column(Double)
    payload: Mapped[str] = mapped_column(LongText)


class Trade(Base):
    """One trade and the figures derived from its fills (``domain.trades.figures``)."""

    __tablename__ = "trades"
    __table_args__ = (
        Index("ix_trades_portfolio_status_closed_at", "portfolio_id", "status", "closed_at"),
        Index("ix_trades_user_created_at", "user_id", "created_at"),
        Index("ix_trades_signal_id", "signal_id"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(6), default="open")
    planned_stop: Mapped[Decimal] = mapped_column(ExactDecimal())
    target_1: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
    target_2: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
    target_3: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
    setup: Mapped[str | None] = mapped_column(String(60), default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    mistakes: Mapped[str] = mapped_column(Text, default="")
    emotions: Mapped[str] = mapped_column(Text, default="")
    signal_id: Mapped[int | None] = mapped_column(
        _BigId, ForeignKey("signals.id", ondelete="SET NULL"), default=None
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    open_quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    avg_entry: Mapped[Decimal] = mapped_column(ExactDecimal())
    avg_exit: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
    fees: Mapped[Decimal] = mapped_column(ExactDecimal())
    #: Quote currency, after fees, partial exits included.
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal())
    #: abs(avg_entry - planned_stop) * quantity
    risk_amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    #: realized_pnl / risk_amount, once closed.
    r_multiple: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
    holding_seconds: Mapped[int | None] = mapped_column(BigInteger, default=None)
    #: Of ``closed_at`` in the owner's time zone; 0 = Monday.
    local_weekday: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    local_hour: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TradeFill(Base):
    """An entry (or scale-in) or an exit (possibly partial) of a trade."""

    __tablename__ = "trade_fills"
    __table_args__ = (Index("ix_trade_fills_trade_at", "trade_id", "at"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    trade_id: Mapped[int] = mapped_column(_BigId, ForeignKey("trades.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(5))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    price: Mapped[Decimal] = mapped_column(ExactDecimal())
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    fee: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))


class TradeTag(Base):
    __tablename__ = "trade_tags"
    __table_args__ = (Index("ix_trade_tags_tag", "tag"),)

    trade_id: Mapped[int] = mapped_column(
        _BigId, ForeignKey("trades.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)


class JournalEntry(Base):
    """Plain text about a day, or about one trade of that day."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        Index("ix_journal_entries_portfolio_day", "portfolio_id", "day"),
        Index("ix_journal_entries_trade_id", "trade_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    trade_id: Mapped[int | None] = mapped_column(
        _BigId, ForeignKey("trades.id", ondelete="CASCADE"), default=None
    )
    day: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)
    mistakes: Mapped[str] = mapped_column(Text, default="")
    emotions: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
