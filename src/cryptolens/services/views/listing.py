"""Shared rules for the list pages: parsing query arguments into validated filters and pages.

Everything here raises ``ValidationError`` with a message naming the argument, so a bad URL
becomes a 400 at the web edge, never a stack trace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from cryptolens.domain.errors import ValidationError
from cryptolens.domain.symbols import parse_symbol
from cryptolens.domain.timeframes import TIMEFRAME_MS

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200

#: ASCII digits, at most a 64-bit integer's length.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,19}")

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A 1-based page of ``per_page`` rows."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows; ``has_next`` comes from fetching one row more, never from a count."""

    rows: tuple[T, ...]
    page: int
    per_page: int
    has_next: bool
    #: The cap a policy put on how far back the list may go (None: the full history).
    limit_total: int | None = None

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def parse_int(
    args: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int
) -> int:
    """An integer argument within [minimum, maximum]."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    # int() also takes fullwidth and other Unicode digits, and raises on "²" or on thousands
    # of digits (str.isdigit() accepts both).
    if not _WHOLE_NUMBER.fullmatch(raw):
        shown = raw if len(raw) <= 24 else raw[:20] + "..."
        raise ValidationError(f"{name} must be a whole number (got {shown!r})")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise ValidationError(f"{name} must be between {minimum} and {maximum} (got {value})")
    return value


def parse_page(args: Mapping[str, str]) -> PageRequest:
    """``page`` (from 1) and ``per_page`` (1..MAX_PER_PAGE) from query arguments."""
    return PageRequest(
        page=parse_int(args, "page", default=1, minimum=1, maximum=1_000_000),
        per_page=parse_int(
            args, "per_page", default=DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE
        ),
    )


def parse_choice(args: Mapping[str, str], name: str, choices: type[E]) -> E | None:
    """An optional enumerated argument."""
    raw = (args.get(name) or "").strip().lower()
    if not raw:
        return None
    try:
        return choices(raw)
    except ValueError:
        known = ", ".join(choice.value for choice in choices)
        raise ValidationError(f"{name} must be one of {known} (got {raw!r})") from None


def parse_timeframe(args: Mapping[str, str], name: str = "timeframe") -> str | None:
    """An optional timeframe argument (``1m`` … ``1d``)."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if raw not in TIMEFRAME_MS:
        known = ", ".join(TIMEFRAME_MS)
        raise ValidationError(f"{name} must be one of {known} (got {raw!r})")
    return raw


def symbol_arg(args: Mapping[str, str], name: str = "symbol") -> str | None:
    """An optional ``BASE/QUOTE`` symbol argument in its canonical spelling (``parse_symbol``)."""
    raw = (args.get(name) or "").strip()
    return parse_symbol(raw) if raw else None


def query_args(values: Mapping[str, object | None]) -> dict[str, str]:
    """Filter values as query arguments, leaving out the unset ones (for links keeping them)."""
    return {name: str(value) for name, value in values.items() if value}


def window(page: PageRequest, limit_total: int | None) -> tuple[int, int]:
    """(offset, rows to fetch) for ``page`` under a ``limit_total`` cap; fetch one extra row
    to learn whether a next page exists."""
    if limit_total is None:
        return page.offset, page.per_page + 1
    remaining = max(0, limit_total - page.offset)
    return page.offset, min(page.per_page, remaining) + (1 if remaining > page.per_page else 0)
