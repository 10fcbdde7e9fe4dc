"""The portfolio pages' forms as service arguments: texts parsed into decimals, times (the
reader's local time in ``datetime-local`` fields) into UTC, fill rows into ``Fill``s. Every
refusal is a ``FieldError`` naming the field, shown above the form again (400)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from cryptolens.domain.portfolio_rules import parse_decimal
from cryptolens.domain.trades import FieldError, Fill, Side
from cryptolens.services.portfolio.journal import JournalInput
from cryptolens.services.portfolio.portfolios import PortfolioInput
from cryptolens.services.portfolio.trades import TradeInput, TradeView

#: Fill rows the new-trade form offers (blank rows are skipped).
FILL_ROWS = 3
MAX_ID = 2**63 - 1
_TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")

_WHOLE = re.compile(r"[0-9]{1,19}")

Form = Mapping[str, str]


def _decimal(form: Form, field: str, label: str) -> Decimal:
    return parse_decimal(field, form.get(field, ""), label)


def _optional_decimal(form: Form, field: str, label: str) -> Decimal | None:
    text = form.get(field, "").strip()
    return parse_decimal(field, text, label) if text else None


def parse_time(text: str, field: str, label: str, zone: ZoneInfo) -> datetime:
    """A ``datetime-local`` value in the reader's ``zone`` as an aware UTC datetime."""
    cleaned = text.strip()
    for pattern in _TIME_FORMATS:
        try:
            local = datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
        return local.replace(tzinfo=zone).astimezone(UTC)
    shown = cleaned[:30]
    raise FieldError(
        field, f"{label} must be a date and time like 2026-01-31T14:05, not {shown!r}."
    )


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        shown = text.strip()[:30]
        raise FieldError("day", f"Day must be a date like 2026-01-31, not {shown!r}.") from None


def parse_id(form: Form, field: str, label: str) -> int | None:
    """An optional id (blank: None)."""
    text = form.get(field, "").strip()
    if not text:
        return None
    if not _WHOLE.fullmatch(text) or not 0 < int(text) <= MAX_ID:
        raise FieldError(field, f"{label} must be a positive whole number.")
    return int(text)


def portfolio_input(form: Form) -> PortfolioInput:
    return PortfolioInput(
        name=form.get("name", ""),
        quote_currency=form.get("quote_currency", ""),
        initial_balance=_decimal(form, "initial_balance", "Initial balance"),
        description=form.get("description", ""),
    )


def fill_from(form: Form, zone: ZoneInfo, *, prefix: str = "", side: str | None = None) -> Fill:
    """One fill from the fields ``{prefix}side``, ``at``, ``price``, ``quantity``, ``fee``."""
    chosen = side if side is not None else form.get(f"{prefix}side", "")
    try:
        parsed_side = Side(chosen.strip().lower())
    except ValueError:
        raise FieldError(f"{prefix}side", "A fill is an entry or an exit.") from None
    return Fill(
        side=parsed_side,
        at=parse_time(form.get(f"{prefix}at", ""), f"{prefix}at", "Time", zone),
        price=_decimal(form, f"{prefix}price", "Price"),
        quantity=_decimal(form, f"{prefix}quantity", "Quantity"),
        fee=_optional_decimal(form, f"{prefix}fee", "Fee") or Decimal(0),
    )


def fill_rows(form: MultiDict[str, str], zone: ZoneInfo) -> tuple[Fill, ...]:
    """The rows of the new-trade form (``fill_side``, ``fill_at``… repeated), blank ones
    skipped; a row's errors name its number."""
    columns = ("side", "at", "price", "quantity", "fee")
    values = {name: form.getlist(f"fill_{name}") for name in columns}
    count = max((len(v) for v in values.values()), default=0)
    fills: list[Fill] = []
    for index in range(count):
        row = {name: (v[index] if index < len(v) else "") for name, v in values.items()}
        if not (row["price"].strip() or row["quantity"].strip()):
            continue
        try:
            fills.append(fill_from(row, zone))
        except FieldError as error:
            raise FieldError(f"fills[{index}]", f"Fill row {index + 1}: {error}") from None
    return tuple(fills)


def _tags(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(",") if part.strip())


def trade_fields(form: Form) -> TradeInput:
    """What the trade forms edit besides the fills and the signal link (left empty)."""
    return TradeInput(
        symbol=form.get("symbol", ""),
        direction=form.get("direction", ""),
        planned_stop=_decimal(form, "planned_stop", "Planned stop"),
        fills=(),
        targets=tuple(_optional_decimal(form, f"target_{n}", f"Target {n}") for n in range(1, 4)),
        setup=form.get("setup", ""),
        notes=form.get("notes", ""),
        mistakes=form.get("mistakes", ""),
        emotions=form.get("emotions", ""),
        tags=_tags(form.get("tags", "")),
    )


def new_trade_input(form: MultiDict[str, str], zone: ZoneInfo) -> TradeInput:
    signal_id = parse_id(form, "signal_id", "Signal")
    return replace(trade_fields(form), fills=fill_rows(form, zone), signal_id=signal_id)


def edited_trade_input(form: Form, current: TradeView) -> TradeInput:
    """The trade's fields from the edit form, its fills and signal link unchanged."""
    fills = tuple(Fill(f.side, f.at, f.price, f.quantity, f.fee) for f in current.fills)
    return replace(trade_fields(form), fills=fills, signal_id=current.signal_id)


def journal_input(form: Form) -> JournalInput:
    return JournalInput(
        day=parse_day(form.get("day", "")),
        body=form.get("body", ""),
        mistakes=form.get("mistakes", ""),
        emotions=form.get("emotions", ""),
        trade_id=parse_id(form, "trade_id", "Trade"),
    )


@dataclass(frozen=True, slots=True)
class Closing:
    price: Decimal
    at: datetime
    fee: Decimal


def closing(form: Form, zone: ZoneInfo) -> Closing:
    """The close form: the exit price, time and fee of the whole open quantity."""
    return Closing(
        price=_decimal(form, "price", "Price"),
        at=parse_time(form.get("at", ""), "at", "Time", zone),
        fee=_optional_decimal(form, "fee", "Fee") or Decimal(0),
    )
