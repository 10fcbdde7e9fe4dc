"""Backtest runs: what was asked (parameters, data range, code version), how far the job got,
and what came out (metrics, trades, equity curve), each as JSON written by
``services.backtests.store``.

``user_id`` is the owner (``None`` for a run started from the CLI); ``share_token`` is set
while the owner shares the run with other signed-in users by link.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cryptolens.clock import utcnow
from cryptolens.db.base import Base, UTCDateTime
from cryptolens.db.portfolio import LongText

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class BacktestRun(Base):
    __tablename__ = "backtest_runs"
    __table_args__ = (Index("ix_backtest_runs_user_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    #: ``single``, ``sweep`` or ``walk_forward``.
    kind: Mapped[str] = mapped_column(String(12), default="single")
    #: ``queued``, ``running``, ``done`` or ``failed``.
    status: Mapped[str] = mapped_column(String(8), default="queued")
    symbol: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The request as JSON: named parameters, execution model, sweep and walk-forward settings.
    params: Mapped[str] = mapped_column(Text)
    code_version: Mapped[str] = mapped_column(String(64))
    #: 0 to 1, written by the job as it goes.
    progress: Mapped[float] = mapped_column(Double, default=0.0)
    job_id: Mapped[str | None] = mapped_column(String(64), default=None)
    share_token: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    metrics: Mapped[str | None] = mapped_column(LongText, default=None)
    trades: Mapped[str | None] = mapped_column(LongText, default=None)
    equity: Mapped[str | None] = mapped_column(LongText, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
