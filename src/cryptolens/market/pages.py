"""What the answers for one page of candles add up to: every row seen, and whether clean
answers agree the page is short (a real exchange gap) or it was only cut short."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from cryptolens.detect.candles import Candles
from cryptolens.market.validation import RejectReason, ValidatedCandles


@dataclass(slots=True)
class PageAnswers:
    """Every answer for one page so far. Rows seen in any answer are kept (faults remove
    rows, they never invent them; a later answer wins, for revisions); ``agree`` counts how
    often a clean answer came back with the same open times."""

    want: int
    rows: dict[int, tuple[float, ...]] = field(default_factory=dict)
    times_seen: Counter[tuple[int, ...]] = field(default_factory=Counter)

    @property
    def whole(self) -> bool:
        return len(self.rows) >= self.want

    def add(self, page: Candles) -> None:
        for row in page.to_rows():
            self.rows[int(row[0])] = tuple(row[1:])

    def agree(self, page: Candles) -> int:
        times = tuple(int(t) for t in page.open_time)
        self.times_seen[times] += 1
        return self.times_seen[times]

    def candles(self) -> Candles:
        return Candles.from_rows([(t, *self.rows[t]) for t in sorted(self.rows)])


def only_repeats(batch: ValidatedCandles) -> bool:
    """True if the answer's only rejected rows were exact copies of kept ones."""
    return bool(batch.rejects) and set(batch.rejects) == {RejectReason.DUPLICATE}
