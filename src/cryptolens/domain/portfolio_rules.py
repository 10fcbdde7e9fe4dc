"""The rules portfolio and trade input must satisfy, each failure a ``FieldError`` whose
message names the field: names and texts, quote currencies, balances, symbols, directions,
stops and targets, tags, and decimal text."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from cryptolens.domain.errors import ValidationError
from cryptolens.domain.symbols import parse_symbol
from cryptolens.domain.trades import Direction, FieldError, check_amount

#: Currencies a portfolio may be kept in (its P&L and balance).
QUOTE_CURRENCIES: tuple[str, ...] = (
    "USD",
    "USDT",
    "USDC",
    "EUR",
    "GBP",
    "BTC",
    "ETH",
    "DAI",
    "FDUSD",
    "TUSD",
    "JPY",
    "CHF",
    "AUD",
    "CAD",
)
MAX_BALANCE = Decimal(1_000_000_000)
NAME_LENGTH = 100
SETUP_LENGTH = 60
TAG_LENGTH = 40
MAX_TAGS = 20
TEXT_LENGTH = 10_000
SYMBOL_LENGTHS = (3, 20)


def parse_decimal(field: str, text: str, label: str) -> Decimal:
    """The decimal written in ``text`` (``"0.5"``, ``"64000"``); FieldError naming ``label``."""
    cleaned = text.strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = Decimal("NaN")
    if not cleaned or len(cleaned) > 40 or not value.is_finite():
        shown = cleaned if len(cleaned) <= 20 else f"{cleaned[:20]}…"
        raise FieldError(field, f"{label} must be a number, not {shown!r}.")
    return value


def check_name(field: str, text: str, label: str, *, length: int = NAME_LENGTH) -> str:
    """``text`` stripped, 1 to ``length`` characters."""
    cleaned = text.strip()
    if not cleaned:
        raise FieldError(field, f"{label} is required.")
    if len(cleaned) > length:
        raise FieldError(field, f"{label} is longer than {length} characters.")
    return cleaned


def check_text(field: str, text: str, label: str, *, length: int = TEXT_LENGTH) -> str:
    """Free text, stripped, at most ``length`` characters (may be empty)."""
    cleaned = text.strip()
    if len(cleaned) > length:
        raise FieldError(field, f"{label} is longer than {length:,} characters.")
    return cleaned


def check_currency(text: str) -> str:
    """A quote currency from ``QUOTE_CURRENCIES`` (any case)."""
    code = text.strip().upper()
    if code not in QUOTE_CURRENCIES:
        shown = text.strip()[:20]
        raise FieldError(
            "quote_currency",
            f"Quote currency {shown!r} is not one of {', '.join(QUOTE_CURRENCIES)}.",
        )
    return code


def check_balance(value: Decimal) -> Decimal:
    """An initial balance: above 0 and below 1,000,000,000."""
    check_amount("initial_balance", value, "Initial balance", positive=True)
    if value >= MAX_BALANCE:
        raise FieldError("initial_balance", "Initial balance must be below 1,000,000,000.")
    return value


def check_symbol(text: str) -> str:
    """A symbol of 3 to 20 characters in the ``BASE/QUOTE`` form, canonically spelled."""
    cleaned = text.strip()
    low, high = SYMBOL_LENGTHS
    if not low <= len(cleaned) <= high:
        raise FieldError("symbol", f"Symbol must be {low} to {high} characters long.")
    try:
        return parse_symbol(cleaned)
    except ValidationError as error:
        raise FieldError("symbol", str(error)) from error


def check_direction(text: str) -> Direction:
    try:
        return Direction(text.strip().lower())
    except ValueError:
        raise FieldError("direction", "Direction must be long or short.") from None


def check_stop(direction: Direction, stop: Decimal, avg_entry: Decimal) -> Decimal:
    """A planned stop above 0, below the average entry of a long (above, of a short)."""
    check_amount("planned_stop", stop, "Planned stop", positive=True)
    if direction is Direction.LONG and stop >= avg_entry:
        raise FieldError(
            "planned_stop", "Planned stop of a long trade must be below the entry price."
        )
    if direction is Direction.SHORT and stop <= avg_entry:
        raise FieldError(
            "planned_stop", "Planned stop of a short trade must be above the entry price."
        )
    return stop


def check_targets(targets: Iterable[Decimal | None]) -> tuple[Decimal | None, ...]:
    """Up to three optional targets, each above 0."""
    chosen = tuple(targets)
    if len(chosen) > 3:
        raise FieldError("targets", "A trade has at most three targets.")
    for number, target in enumerate(chosen, start=1):
        if target is not None:
            check_amount(f"target_{number}", target, f"Target {number}", positive=True)
    return chosen + (None,) * (3 - len(chosen))


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags stripped, lower-cased, de-duplicated in order; each 1 to 40 characters without
    commas, at most 20."""
    chosen: list[str] = []
    for raw in tags:
        tag = " ".join(raw.split()).lower()
        if not tag:
            continue
        if len(tag) > TAG_LENGTH or "," in tag:
            shown = tag[:TAG_LENGTH]
            raise FieldError(
                "tags", f"Tag {shown!r} must be at most {TAG_LENGTH} characters, without commas."
            )
        if tag not in chosen:
            chosen.append(tag)
    if len(chosen) > MAX_TAGS:
        raise FieldError("tags", f"A trade has at most {MAX_TAGS} tags.")
    return tuple(chosen)
