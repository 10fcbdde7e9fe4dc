"""What a database health check found, per symbol and timeframe, and what a repair did."""

from __future__ import annotations

from dataclasses import dataclass, field

#: A half-open ``[start, end)`` range of open times, epoch ms.
Window = tuple[int, int]


@dataclass(frozen=True, slots=True)
class TimeframeHealth:
    """Findings for one timeframe; ``missing``/``extra``/``different`` count aggregate buckets."""

    timeframe: str
    rows: int = 0
    duplicates: int = 0
    misaligned: int = 0
    missing: int = 0
    extra: int = 0
    different: int = 0

    @property
    def problems(self) -> int:
        return self.duplicates + self.misaligned + self.missing + self.extra + self.different


@dataclass(frozen=True, slots=True)
class SymbolHealth:
    """One symbol: base-timeframe holes, per-timeframe findings (base first), and the base
    windows whose aggregates disagree with the base data (what a repair rebuilds).

    ``known_holes`` are holes the exchange confirmed it lacks too (the known-gaps registry):
    reported, but they do not make the symbol unhealthy; ``holes`` are the rest."""

    symbol_id: int
    symbol: str
    timeframes: tuple[TimeframeHealth, ...]
    holes: tuple[Window, ...] = ()
    missing_candles: int = 0
    known_holes: tuple[Window, ...] = ()
    known_missing: int = 0
    stale_windows: tuple[Window, ...] = ()
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return (
            not self.holes and self.error is None and not any(t.problems for t in self.timeframes)
        )


@dataclass(frozen=True, slots=True)
class RepairCounts:
    fetched: int = 0
    stored: int = 0
    rebuilt: int = 0
    deleted: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The check of every symbol looked at; ``repair`` is set when a repair preceded it."""

    base_timeframe: str
    symbols: tuple[SymbolHealth, ...] = ()
    repair: RepairCounts | None = field(default=None)

    @property
    def healthy(self) -> bool:
        return all(s.healthy for s in self.symbols)

    def counts(self) -> dict[str, int]:
        """Flat totals, e.g. for a job run's record."""
        timeframes = [t for s in self.symbols for t in s.timeframes]
        counts = {
            "symbols": len(self.symbols),
            "unhealthy": sum(not s.healthy for s in self.symbols),
            "holes": sum(len(s.holes) for s in self.symbols),
            "missing_candles": sum(s.missing_candles for s in self.symbols),
            "known_holes": sum(len(s.known_holes) for s in self.symbols),
            "known_missing_candles": sum(s.known_missing for s in self.symbols),
            "duplicates": sum(t.duplicates for t in timeframes),
            "misaligned": sum(t.misaligned for t in timeframes),
            "aggregates_missing": sum(t.missing for t in timeframes),
            "aggregates_extra": sum(t.extra for t in timeframes),
            "aggregates_different": sum(t.different for t in timeframes),
        }
        if self.repair is not None:
            counts.update(
                repair_fetched=self.repair.fetched,
                repair_stored=self.repair.stored,
                repair_rebuilt=self.repair.rebuilt,
                repair_deleted=self.repair.deleted,
                repair_failed=self.repair.failed,
            )
        return counts
