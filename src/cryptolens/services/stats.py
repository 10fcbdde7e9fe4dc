"""The stats page in one call: zone statistics and the signal track record."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cryptolens.services.track_record import TrackRecordRow, track_record
from cryptolens.services.zone_stats import ZoneStatsRow, zone_stats


@dataclass(frozen=True, slots=True)
class Statistics:
    zones: tuple[ZoneStatsRow, ...]
    #: One row over every signal, then per symbol, then per direction, then per timeframes.
    overall: TrackRecordRow | None
    by_symbol: tuple[TrackRecordRow, ...]
    by_direction: tuple[TrackRecordRow, ...]
    by_timeframes: tuple[TrackRecordRow, ...]


def statistics(session: Session) -> Statistics:
    """Five grouped queries whatever the number of zones and signals."""
    overall = track_record(session, group_by=())
    return Statistics(
        zones=tuple(zone_stats(session)),
        overall=overall[0] if overall else None,
        by_symbol=tuple(track_record(session, group_by=("symbol",))),
        by_direction=tuple(track_record(session, group_by=("direction",))),
        by_timeframes=tuple(track_record(session, group_by=("timeframes",))),
    )
