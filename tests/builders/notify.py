"""Notification test data: a signal summary as an alert would describe it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cryptolens.notify.signal_message import SignalSummary

SUMMARY = SignalSummary(
    id=42,
    symbol="BTC/USDT",
    direction="bullish",
    confluence=3,
    timeframes=("15m", "1h", "4h"),
    pattern_types=("fvg", "order_block"),
    entry=64123.5,
    stop=63500.0,
    target_1=64747.0,
    target_2=65370.5,
    target_3=65994.0,
    risk_reward=2.0,
    created_at=1_700_000_000_000,
)


def make_summary(**changes: Any) -> SignalSummary:
    """``SUMMARY`` (a bullish BTC/USDT signal, confluence 3, id 42) with ``changes``."""
    return replace(SUMMARY, **changes)
