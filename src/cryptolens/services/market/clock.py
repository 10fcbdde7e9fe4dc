"""The market's clock: the exchange's own "now", recorded at every ingestion.

Pages, expiry and signals follow the exchange's time, not the wall clock, so a replayed
market (the demo simulator) looks the same as a live one.
"""

from __future__ import annotations

import typing

from sqlalchemy import BigInteger, Table, bindparam, cast, select, update
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.models import Setting
from cryptolens.db.upsert import upsert_rows

KEY_PREFIX = "market_now:"
#: Built once (pages read the clock on every request); a plain column read, no ORM object.
_NOW_QUERY = select(Setting.value).where(Setting.key == bindparam("key"))


def record_market_now(session: Session, *, exchange: str, now_ms: int) -> None:
    """Remember ``now_ms`` as the exchange's latest known time (never moves backwards).

    Two statements that are safe when several workers record at once: insert the row unless
    it exists (a read, then an insert, let two first writers collide on the key), then move
    it forward only where it is behind."""
    key = f"{KEY_PREFIX}{exchange}"
    now = utcnow()
    connection = session.connection()
    table = typing.cast(Table, Setting.__table__)
    upsert_rows(
        connection,
        table,
        [{"key": key, "value": str(now_ms), "updated_at": now}],
        key=["key"],
        update=[],
    )
    connection.execute(
        update(table)
        .where(table.c.key == key, cast(table.c.value, BigInteger) < now_ms)
        .values(value=str(now_ms), updated_at=now)
    )


def market_now(session: Session, *, exchange: str) -> int | None:
    """The exchange's latest recorded time in epoch ms, or None before the first ingestion."""
    value = session.scalar(_NOW_QUERY, {"key": f"{KEY_PREFIX}{exchange}"})
    return int(value) if value is not None else None
