"""The market's clock: the exchange's own "now", recorded at every ingestion.

Pages, expiry and signals follow the exchange's time, not the wall clock, so a replayed
market (the demo simulator) looks the same as a live one.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cryptolens.db.models import Setting

KEY_PREFIX = "market_now:"
#: Built once (pages read the clock on every request); a plain column read, no ORM object.
_NOW_QUERY = select(Setting.value).where(Setting.key == bindparam("key"))


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
    value = session.scalar(_NOW_QUERY, {"key": f"{KEY_PREFIX}{exchange}"})
    return int(value) if value is not None else None
