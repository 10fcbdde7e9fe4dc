"""The admin broadcast page's list: recent broadcasts with their recipient counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.db.notifications import Broadcast


@dataclass(frozen=True, slots=True)
class BroadcastRow:
    id: int
    created_at: datetime
    audience: str
    title: str
    recipients: int  # set by the fan-out; 0 until it ran


def recent_broadcasts(session: Session, *, limit: int = 20) -> list[BroadcastRow]:
    """The newest ``limit`` broadcasts, newest first."""
    rows = session.execute(
        select(
            Broadcast.id,
            Broadcast.created_at,
            Broadcast.audience,
            Broadcast.title,
            Broadcast.recipients,
        )
        .order_by(Broadcast.id.desc())
        .limit(limit)
    )
    return [BroadcastRow(*row) for row in rows]
