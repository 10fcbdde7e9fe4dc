"""Cursor paging for the API's lists: newest first by (time, id), without offsets.

A cursor names the last row served (its time and id) and how many rows came before it, so a
plan's cap on how far back a list may go (``limit_total``) holds across pages too. It is
opaque to callers (URL-safe base64 of three numbers) and checked when read back.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Row, Select, and_, or_
from sqlalchemy.orm import Session

from cryptolens.domain.errors import ValidationError

T = TypeVar("T")
_TEXT = re.compile(r"(0|[1-9][0-9]{0,18})\.(0|[1-9][0-9]{0,18})\.(0|[1-9][0-9]{0,18})")
MAX_VALUE = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Cursor:
    """After the row (``time``, ``id``), ``seen`` rows having been served before it."""

    time: int
    id: int
    seen: int

    def encode(self) -> str:
        text = f"{self.time}.{self.id}.{self.seen}".encode("ascii")
        return base64.urlsafe_b64encode(text).decode("ascii").rstrip("=")


def parse_cursor(raw: str | None) -> Cursor | None:
    """The cursor a previous page handed out; ValidationError naming ``cursor`` otherwise."""
    if not raw:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = _TEXT.fullmatch(text)
    values = tuple(int(part) for part in match.groups()) if match else ()
    if not values or max(values) > MAX_VALUE:
        raise ValidationError("cursor is not one this API handed out (use meta.next_cursor)")
    return Cursor(*values)


@dataclass(frozen=True, slots=True)
class CursorPage(Generic[T]):
    rows: tuple[T, ...]
    next_cursor: Cursor | None


def after(cursor: Cursor | None, time: Any, id_: Any) -> list[ColumnElement[bool]]:
    """The condition "older than the cursor's row" in (time, id) descending order."""
    if cursor is None:
        return []
    return [or_(time < cursor.time, and_(time == cursor.time, id_ < cursor.id))]


def keyset_page(
    session: Session,
    query: Select[Any],  # any row shape: ``build`` makes it a T
    *,
    limit: int,
    cursor: Cursor | None,
    limit_total: int | None,
    build: Callable[[Row[Any]], T],
    key: Callable[[T], tuple[int, int]],
) -> CursorPage[T]:
    """Run ``query`` (already filtered past ``cursor`` and ordered newest first) for one
    page of at most ``limit`` rows within the newest ``limit_total``."""
    seen = cursor.seen if cursor is not None else 0
    room = limit if limit_total is None else min(limit, max(0, limit_total - seen))
    if room == 0:
        return CursorPage((), None)
    rows: Sequence[Row[Any]] = session.execute(query.limit(room + 1)).all()
    page = tuple(build(row) for row in rows[:room])
    more = len(rows) > room and (limit_total is None or seen + room < limit_total)
    if not more or not page:
        return CursorPage(page, None)
    time, id_ = key(page[-1])
    return CursorPage(page, Cursor(time, id_, seen + len(page)))
