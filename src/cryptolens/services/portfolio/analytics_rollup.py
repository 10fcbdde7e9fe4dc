"""Rolling the grouped rows of ``analytics_queries.grouped`` up into figures per breakdown
key and over the whole portfolio: the groups are few (symbols x directions x setups x 3
signs, weekdays x hours x 3, tags x 3), so the sums are cheap here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Row

from cryptolens.services.portfolio import analytics_queries as queries

#: Breakdown names, with the grouped dimension and key column each is read from.
DIMENSIONS: dict[str, tuple[int, str]] = {
    "tag": (queries.TAGS, "key_0"),
    "symbol": (queries.TRADES, "key_0"),
    "direction": (queries.TRADES, "key_1"),
    "setup": (queries.TRADES, "key_2"),
    "weekday": (queries.CLOCK, "key_0"),
    "hour": (queries.CLOCK, "key_1"),
}
_NUMERIC = ("weekday", "hour")


def money(value: Any) -> Decimal:
    """A sum or stored decimal from the database as a Decimal (a float or text on SQLite; 0
    for NULL)."""
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts and sums of a set of closed trades, and what follows from them."""

    trades: int
    wins: int
    losses: int
    net_pnl: Decimal
    gross_profit: Decimal
    #: Zero or negative.
    gross_loss: Decimal
    #: Closed trades with an R multiple (a planned risk).
    r_trades: int
    sum_r: float

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.trades if self.trades else None

    @property
    def profit_factor(self) -> float | None:
        """Gross profit over gross loss; None without losses."""
        return float(self.gross_profit / -self.gross_loss) if self.gross_loss else None

    @property
    def expectancy(self) -> Decimal | None:
        """Mean P&L per trade, in the quote currency."""
        return self.net_pnl / self.trades if self.trades else None

    @property
    def expectancy_r(self) -> float | None:
        """Mean R per trade with an R."""
        return self.sum_r / self.r_trades if self.r_trades else None


@dataclass(slots=True)
class Side:
    """Trades of one sign (wins, losses or even): count, P&L and R sums."""

    trades: int = 0
    pnl: Decimal = field(default_factory=Decimal)
    r_trades: int = 0
    sum_r: float = 0.0

    def add(self, row: Row[Any]) -> None:
        self.trades += int(row.trades)
        self.pnl += money(row.net)
        self.r_trades += int(row.r_trades or 0)
        self.sum_r += float(row.sum_r or 0)


@dataclass(slots=True)
class Tally:
    """Grouped rows added up: per sign, and the extremes over all of them."""

    sides: dict[int, Side] = field(default_factory=lambda: {1: Side(), -1: Side(), 0: Side()})
    largest: Decimal | None = None
    smallest: Decimal | None = None
    holding: int = 0
    first_opened_at: datetime | None = None
    last_closed_at: datetime | None = None

    def add(self, row: Row[Any]) -> None:
        self.sides[int(row.sign)].add(row)
        largest, smallest = money(row.largest), money(row.smallest)
        self.largest = largest if self.largest is None else max(self.largest, largest)
        self.smallest = smallest if self.smallest is None else min(self.smallest, smallest)
        self.holding += int(row.holding or 0)
        opened, closed = row.first_opened_at, row.last_closed_at
        if opened is not None:
            first = self.first_opened_at
            self.first_opened_at = opened if first is None else min(first, opened)
        if closed is not None:
            last = self.last_closed_at
            self.last_closed_at = closed if last is None else max(last, closed)

    def figures(self) -> Figures:
        wins, losses, even = self.sides[1], self.sides[-1], self.sides[0]
        return Figures(
            trades=wins.trades + losses.trades + even.trades,
            wins=wins.trades,
            losses=losses.trades,
            net_pnl=wins.pnl + losses.pnl + even.pnl,
            gross_profit=wins.pnl,
            gross_loss=losses.pnl,
            r_trades=wins.r_trades + losses.r_trades + even.r_trades,
            sum_r=wins.sum_r + losses.sum_r + even.sum_r,
        )


def _key(dimension: str, value: str | None) -> str | int | None:
    if value is not None and dimension in _NUMERIC:
        return int(value)
    return value


def _ordered(name: str, tallies: dict[str | int | None, Tally]) -> list[tuple[Any, Tally]]:
    items = list(tallies.items())
    if name in _NUMERIC:
        return sorted(items, key=lambda item: (item[0] is None, item[0] or 0))
    return sorted(items, key=lambda item: (-item[1].figures().trades, str(item[0] or "")))


def roll_up(rows: list[Row[Any]]) -> tuple[Tally, dict[str, list[tuple[Any, Tally]]]]:
    """The tally over every closed trade, and per breakdown its (key, tally) pairs, most
    trades first (weekdays and hours in order)."""
    total = Tally()
    tallies: dict[str, dict[str | int | None, Tally]] = {name: {} for name in DIMENSIONS}
    for row in rows:
        dimension = int(row.dimension)
        if dimension == queries.TRADES:
            total.add(row)
        for name, (source, column) in DIMENSIONS.items():
            if source == dimension:
                key = _key(name, getattr(row, column))
                tallies[name].setdefault(key, Tally()).add(row)
    return total, {name: _ordered(name, found) for name, found in tallies.items()}
