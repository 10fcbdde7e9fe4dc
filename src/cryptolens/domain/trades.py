"""Trades as fills: entries (scale-ins) and exits (partial or whole) matched first in, first
out into closed lots, and the figures a journal shows — realised P&L after fees, average entry
and exit, open quantity, R from the planned stop, holding time.

Arithmetic is exact: ``decimal`` with enough precision that sums and products of stored
values (``Numeric(28, 10)``) never round; only fee shares are rounded, to 30 places, and the
last share of a fee takes the remainder, so the realised P&L of any fill sequence is exactly
the sum of its closed lots. The stored figures are rounded to 10 places (``quantize``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from enum import StrEnum

from cryptolens.domain.errors import ValidationError

#: Places the database keeps (``Numeric(28, 10)``) and the largest magnitude it holds.
STORED_PLACES = 10
MAX_STORED = Decimal(10) ** 18
_STORED_QUANTUM = Decimal(1).scaleb(-STORED_PLACES)
_SHARE_QUANTUM = Decimal(1).scaleb(-30)
_PRECISION = 120
ZERO = Decimal(0)


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"


class Side(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class TradeStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class FieldError(ValidationError):
    """Input that breaks a rule, with the field it concerns (``fills[2].price``, ``symbol``)
    so a form can show the message beside it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Fill:
    side: Side
    at: datetime
    price: Decimal
    quantity: Decimal
    fee: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class ClosedLot:
    """Quantity bought (sold, for a short) at one entry and closed at one exit, with its
    share of both fills' fees; ``pnl`` is exact (not rounded)."""

    entry_at: datetime
    exit_at: datetime
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    fees: Decimal
    pnl: Decimal


@dataclass(frozen=True, slots=True)
class TradeFigures:
    """What a trade's fills add up to. Money and prices rounded to 10 places; ``lots`` exact.

    ``realized_pnl`` counts closed lots only (with their share of fees); ``r_multiple`` and
    ``holding_seconds`` are set once the position is flat. ``lots`` are there when the figures
    were computed from the fills (``figures``); figures read back from the database, which
    keeps the totals only, have none.
    """

    status: TradeStatus
    opened_at: datetime
    closed_at: datetime | None
    quantity: Decimal
    open_quantity: Decimal
    avg_entry: Decimal
    avg_exit: Decimal | None
    fees: Decimal
    realized_pnl: Decimal
    risk_amount: Decimal
    r_multiple: Decimal | None
    holding_seconds: int | None
    lots: tuple[ClosedLot, ...] = ()


def canonical(value: Decimal) -> Decimal:
    """The value without exponent or trailing zeros (``1.50`` → ``1.5``, ``1E+2`` → ``100``),
    as the database gives every decimal back."""
    with localcontext(prec=_PRECISION):
        if value == value.to_integral_value():
            return value.quantize(Decimal(1))
        return value.normalize()


def quantize(value: Decimal) -> Decimal:
    """``value`` rounded (half to even) to the 10 places the database keeps, canonically."""
    with localcontext(prec=_PRECISION):
        return canonical(value.quantize(_STORED_QUANTUM, rounding=ROUND_HALF_EVEN))


@dataclass(slots=True)
class _OpenLot:
    at: datetime
    price: Decimal
    quantity: Decimal
    fee: Decimal  # the part of the entry fee not yet given to a closed lot


def _share(fee: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """The part of ``fee`` that goes with ``part`` of ``whole`` (all of it for the last part)."""
    if part == whole:
        return fee
    return (fee * part / whole).quantize(_SHARE_QUANTUM, rounding=ROUND_HALF_EVEN)


def _close_against(
    book: deque[_OpenLot], exit_fill: Fill, sign: int, lots: list[ClosedLot]
) -> None:
    remaining = exit_fill.quantity
    exit_fee = exit_fill.fee
    while remaining > 0:
        head = book[0]
        take = min(head.quantity, remaining)
        entry_share = _share(head.fee, take, head.quantity)
        exit_share = _share(exit_fee, take, remaining)
        fees = entry_share + exit_share
        gross = (exit_fill.price - head.price) * take * sign
        lots.append(
            ClosedLot(
                entry_at=head.at,
                exit_at=exit_fill.at,
                quantity=take,
                entry_price=head.price,
                exit_price=exit_fill.price,
                fees=fees,
                pnl=gross - fees,
            )
        )
        head.quantity -= take
        head.fee -= entry_share
        exit_fee -= exit_share
        remaining -= take
        if head.quantity == 0:
            book.popleft()


def match_lots(direction: Direction, fills: Sequence[Fill]) -> tuple[ClosedLot, ...]:
    """FIFO lots of time-ordered, validated ``fills`` (see ``check_fills``)."""
    sign = 1 if direction is Direction.LONG else -1
    book: deque[_OpenLot] = deque()
    lots: list[ClosedLot] = []
    with localcontext(prec=_PRECISION):
        for fill in fills:
            if fill.side is Side.ENTRY:
                book.append(_OpenLot(fill.at, fill.price, fill.quantity, fill.fee))
            else:
                _close_against(book, fill, sign, lots)
    return tuple(lots)


def _average(fills: Iterable[Fill]) -> Decimal | None:
    chosen = list(fills)
    quantity = sum((f.quantity for f in chosen), ZERO)
    if quantity == 0:
        return None
    return sum((f.price * f.quantity for f in chosen), ZERO) / quantity


def figures(direction: Direction, fills: Sequence[Fill], planned_stop: Decimal) -> TradeFigures:
    """The figures of a trade whose fills pass ``check_fills``; ValidationError otherwise."""
    chosen = check_fills(fills)
    lots = match_lots(direction, chosen)
    with localcontext(prec=_PRECISION):
        entries = [f for f in chosen if f.side is Side.ENTRY]
        entered = sum((f.quantity for f in entries), ZERO)
        exited = sum((lot.quantity for lot in lots), ZERO)
        avg_entry = _average(entries) or ZERO
        avg_exit = _average(f for f in chosen if f.side is Side.EXIT)
        pnl = sum((lot.pnl for lot in lots), ZERO)
        risk = abs(avg_entry - planned_stop) * entered
        flat = entered == exited
        closed_at = chosen[-1].at if flat else None
        r_multiple = quantize(pnl / risk) if flat and risk > 0 else None
    return TradeFigures(
        status=TradeStatus.CLOSED if flat else TradeStatus.OPEN,
        opened_at=chosen[0].at,
        closed_at=closed_at,
        quantity=entered,
        open_quantity=entered - exited,
        avg_entry=quantize(avg_entry),
        avg_exit=None if avg_exit is None else quantize(avg_exit),
        fees=sum((f.fee for f in chosen), ZERO),
        realized_pnl=quantize(pnl),
        risk_amount=quantize(risk),
        r_multiple=r_multiple,
        holding_seconds=(
            None if closed_at is None else int((closed_at - chosen[0].at).total_seconds())
        ),
        lots=lots,
    )


def check_storable(result: TradeFigures) -> TradeFigures:
    """``result`` if every figure fits what the database keeps (below 10^18): fills that
    each fit can still add up, multiply (P&L, risk) or divide (R) beyond it. FieldError
    naming the figure otherwise."""
    for item in fields(result):
        value = getattr(result, item.name)
        if isinstance(value, Decimal) and abs(value) >= MAX_STORED:
            label = item.name.replace("_", " ")
            raise FieldError(
                "fills", f"The trade's {label} would be {value:.3E}, too large to keep (10^18)."
            )
    return result


def _check_fill(index: int, fill: Fill, now: datetime | None) -> None:
    where = f"fills[{index}]"
    label = f"Fill {index + 1} ({fill.side.value})"
    check_amount(f"{where}.price", fill.price, f"{label}: price", positive=True)
    check_amount(f"{where}.quantity", fill.quantity, f"{label}: quantity", positive=True)
    check_amount(f"{where}.fee", fill.fee, f"{label}: fee", positive=False)
    if fill.at.tzinfo is None:
        raise FieldError(f"{where}.at", f"{label}: the time needs a time zone.")
    if now is not None and fill.at > now:
        when = f"{fill.at:%Y-%m-%d %H:%M}"
        raise FieldError(f"{where}.at", f"{label}: the time {when} is in the future.")


def check_fills(fills: Sequence[Fill], *, now: datetime | None = None) -> list[Fill]:
    """The fills in time order, if they make a trade: at least one entry, every price and
    quantity above 0 and fee at least 0, nothing before the first entry or (given ``now``)
    in the future, no exit larger than the open position, nothing after the position is flat.
    Raises FieldError naming the fill (numbered as given, from 1) and the rule."""
    if not fills:
        raise FieldError("fills", "A trade needs at least one entry fill.")
    for index, fill in enumerate(fills):
        _check_fill(index, fill, now)
    order = sorted(range(len(fills)), key=lambda i: (fills[i].at, fills[i].side is Side.EXIT))
    position = ZERO
    for step, index in enumerate(order):
        fill = fills[index]
        where, number = f"fills[{index}]", index + 1
        if step == 0 and fill.side is Side.EXIT:
            message = f"Fill {number} (exit) is dated before the first entry."
            raise FieldError(f"{where}.at", message)
        if step > 0 and position == 0:
            raise FieldError(
                f"{where}.at",
                f"Fill {number} comes after the position was closed; start a new trade.",
            )
        if fill.side is Side.EXIT and fill.quantity > position:
            raise FieldError(
                f"{where}.quantity",
                f"Fill {number} exits {fill.quantity}, more than the open position of {position}.",
            )
        position += fill.quantity if fill.side is Side.ENTRY else -fill.quantity
    return [fills[i] for i in order]


def check_amount(field: str, value: Decimal, label: str, *, positive: bool) -> Decimal:
    """``value`` if finite, within what the database keeps (10 places, below 10^18) and above 0
    (``positive``) or at least 0; FieldError naming ``label`` otherwise."""
    if not value.is_finite():
        raise FieldError(field, f"{label} must be a number.")
    if positive and value <= 0:
        raise FieldError(field, f"{label} must be greater than 0.")
    if not positive and value < 0:
        raise FieldError(field, f"{label} must not be negative.")
    if abs(value) >= MAX_STORED:
        raise FieldError(field, f"{label} is too large.")
    if value != quantize(value):
        raise FieldError(field, f"{label} has more than {STORED_PLACES} decimal places.")
    return value
