"""Enumerations shared across the application."""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    BULLISH = "bullish"
    BEARISH = "bearish"


class PatternType(StrEnum):
    FVG = "fvg"
    ORDER_BLOCK = "order_block"
    LIQUIDITY_SWEEP = "liquidity_sweep"


class PatternStatus(StrEnum):
    ACTIVE = "active"
    TOUCHED = "touched"
    FILLED = "filled"
    INVALIDATED = "invalidated"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        return self in (PatternStatus.ACTIVE, PatternStatus.TOUCHED)


class SignalStatus(StrEnum):
    PENDING = "pending"
    TRIGGERED = "triggered"
    CLOSED = "closed"
    EXPIRED = "expired"


class SignalOutcome(StrEnum):
    TP1 = "tp1"
    TP2 = "tp2"
    TP3 = "tp3"
    STOP = "stop"
    UNFILLED = "unfilled"
    TIMEOUT = "timeout"


class JobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
