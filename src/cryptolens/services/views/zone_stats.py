"""Zone statistics: how many zones of each type, timeframe and status, and how often the
zones that ended were filled."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cryptolens.db.models import Pattern
from cryptolens.domain.enums import PatternStatus, PatternType
from cryptolens.domain.timeframes import TIMEFRAME_MS

FINAL_STATUSES = (
    PatternStatus.FILLED.value,
    PatternStatus.INVALIDATED.value,
    PatternStatus.EXPIRED.value,
)


@dataclass(frozen=True, slots=True)
class ZoneStatsRow:
    pattern_type: str
    timeframe: str
    #: Zones per status, every PatternStatus present (0 where none).
    by_status: tuple[tuple[str, int], ...]
    avg_fill_fraction: float

    @property
    def total(self) -> int:
        return sum(n for _, n in self.by_status)

    @property
    def ended(self) -> int:
        return sum(n for status, n in self.by_status if status in FINAL_STATUSES)

    @property
    def fill_rate(self) -> float | None:
        """Filled zones among those that ended (None while none has ended)."""
        filled = dict(self.by_status).get(PatternStatus.FILLED.value, 0)
        return filled / self.ended if self.ended else None


def zone_stats(session: Session) -> list[ZoneStatsRow]:
    """One row per (pattern type, timeframe), from one grouped query."""
    rows = session.execute(
        select(
            Pattern.pattern_type,
            Pattern.timeframe,
            Pattern.status,
            func.count(),
            func.sum(Pattern.fill_fraction),
        ).group_by(Pattern.pattern_type, Pattern.timeframe, Pattern.status)
    ).all()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    fill_sums: dict[tuple[str, str], float] = {}
    for pattern_type, timeframe, status, count, fill_sum in rows:
        key = (pattern_type, timeframe)
        counts.setdefault(key, {})[status] = int(count)
        fill_sums[key] = fill_sums.get(key, 0.0) + float(fill_sum or 0.0)
    type_order = {t.value: i for i, t in enumerate(PatternType)}
    result = []
    for key in sorted(counts, key=lambda k: (type_order.get(k[0], 99), TIMEFRAME_MS.get(k[1], 0))):
        by_status = tuple((s.value, counts[key].get(s.value, 0)) for s in PatternStatus)
        total = sum(n for _, n in by_status)
        result.append(ZoneStatsRow(*key, by_status, fill_sums[key] / total if total else 0.0))
    return result
