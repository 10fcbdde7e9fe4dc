"""The stats page in one call: zone statistics and the signal track record.

The figures scan every zone and signal, so the ``refresh_stats`` job (every 5 minutes)
stores them as a snapshot and the page reads that one row; the page computes them itself
only when no recent snapshot exists (a fresh install, or no scheduler running).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.models import Setting
from cryptolens.services.views.track_record import TrackRecordRow, track_record
from cryptolens.services.views.zone_stats import ZoneStatsRow, zone_stats

SNAPSHOT_KEY = "stats:snapshot"
#: A snapshot older than this is not shown (the job refreshes it every 5 minutes).
SNAPSHOT_MAX_AGE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Statistics:
    zones: tuple[ZoneStatsRow, ...]
    #: One row over every signal, then per symbol, then per direction, then per timeframes.
    overall: TrackRecordRow | None
    by_symbol: tuple[TrackRecordRow, ...]
    by_direction: tuple[TrackRecordRow, ...]
    by_timeframes: tuple[TrackRecordRow, ...]
    #: When these figures were computed.
    computed_at: datetime | None = None


def statistics(session: Session) -> Statistics:
    """Five grouped queries whatever the number of zones and signals."""
    overall = track_record(session, group_by=())
    return Statistics(
        zones=tuple(zone_stats(session)),
        overall=overall[0] if overall else None,
        by_symbol=tuple(track_record(session, group_by=("symbol",))),
        by_direction=tuple(track_record(session, group_by=("direction",))),
        by_timeframes=tuple(track_record(session, group_by=("timeframes",))),
        computed_at=utcnow(),
    )


def store_snapshot(session: Session, stats: Statistics) -> None:
    """Keep ``stats`` for the page (the caller commits)."""
    data = asdict(stats)
    data["computed_at"] = stats.computed_at.isoformat() if stats.computed_at else None
    text = json.dumps(data, separators=(",", ":"))
    row = session.get(Setting, SNAPSHOT_KEY)
    if row is None:
        session.add(Setting(key=SNAPSHOT_KEY, value=text))
    else:
        row.value = text


def _record(row: dict[str, Any] | None) -> TrackRecordRow | None:
    return None if row is None else TrackRecordRow(**row)


def load_snapshot(session: Session, *, now: datetime) -> Statistics | None:
    """The stored figures, or None if there are none or they are too old."""
    row = session.get(Setting, SNAPSHOT_KEY)
    if row is None:
        return None
    data = json.loads(row.value)
    computed = datetime.fromisoformat(data["computed_at"])
    if now - computed > SNAPSHOT_MAX_AGE:
        return None
    return Statistics(
        zones=tuple(
            ZoneStatsRow(
                z["pattern_type"],
                z["timeframe"],
                tuple((status, int(n)) for status, n in z["by_status"]),
                z["avg_fill_fraction"],
            )
            for z in data["zones"]
        ),
        overall=_record(data["overall"]),
        by_symbol=tuple(TrackRecordRow(**r) for r in data["by_symbol"]),
        by_direction=tuple(TrackRecordRow(**r) for r in data["by_direction"]),
        by_timeframes=tuple(TrackRecordRow(**r) for r in data["by_timeframes"]),
        computed_at=computed,
    )


def page_statistics(session: Session) -> Statistics:
    """The stats page's figures: the job's recent snapshot, else computed now."""
    return load_snapshot(session, now=utcnow()) or statistics(session)


def refresh_snapshot(session: Session) -> Statistics:
    """Compute and store the figures (the ``refresh_stats`` job; the caller commits)."""
    stats = statistics(session)
    store_snapshot(session, stats)
    return stats
