"""The market's clock: the exchange's own "now", recorded at every ingestion.

Pages, expiry and signals follow the exchange's time, not the wall clock, so a replayed
market (the demo simulator) looks the same as a live one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cryptolens.db.models import Setting

KEY_PREFIX = "market_now:"


def record_market_now(session: Session, *, exchange: str, now_ms: int) -> None:
    """Remember ``now_ms`` as the exchange's latest known time (never moves backwards)."""
    key = f"{KEY_PREFIX}{exchange}"
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=str(now_ms)))
    elif int(row.value) < now_ms:
        row.value = str(now_ms)


def market_now(session: Session, *, exchange: str) -> int | None:
    """The exchange's latest recorded time in epoch ms, or None before the first ingestion."""
    row = session.get(Setting, f"{KEY_PREFIX}{exchange}")
    return int(row.value) if row is not None else None
