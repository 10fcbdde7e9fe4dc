"""Journal entries: plain text about a day of a portfolio, or about one of its trades, with
mistakes and emotions; ``render_journal`` shows the text with light formatting, safely."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import User
from cryptolens.db.portfolio import JournalEntry
from cryptolens.domain.errors import NotFoundError
from cryptolens.domain.plans import Capability
from cryptolens.domain.portfolio_rules import check_name, check_text
from cryptolens.domain.quiet_hours import local_day
from cryptolens.domain.trades import FieldError
from cryptolens.services.accounts import policy
from cryptolens.services.portfolio.access import (
    Owner,
    owned_portfolio,
    owned_trade,
    owner_id,
)

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
# Italic text holds no tag, so a marker never pairs across a <strong> boundary.
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*<]+?)(?<=[^\s*])\*(?![*\w])")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")


@dataclass(frozen=True, slots=True)
class JournalInput:
    day: date
    body: str
    mistakes: str = ""
    emotions: str = ""
    trade_id: int | None = None


@dataclass(frozen=True, slots=True)
class JournalView:
    id: int
    portfolio_id: int
    trade_id: int | None
    day: date
    body: str
    mistakes: str
    emotions: str
    created_at: datetime
    updated_at: datetime


def _view(row: JournalEntry) -> JournalView:
    return JournalView(
        id=row.id,
        portfolio_id=row.portfolio_id,
        trade_id=row.trade_id,
        day=row.day,
        body=row.body,
        mistakes=row.mistakes,
        emotions=row.emotions,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _owner_today(session: Session, owner: Owner, now: datetime) -> date:
    """Today in the owner's time zone (east of UTC a day starts before UTC's does)."""
    user = session.get(User, owner_id(owner))
    return local_day(now, user.timezone if user is not None else "UTC")


def _checked(
    session: Session, *, owner: Owner, portfolio_id: int, data: JournalInput, now: datetime
) -> JournalInput:
    if data.trade_id is not None:
        trade = owned_trade(session, owner=owner, trade_id=data.trade_id)
        if trade.portfolio_id != portfolio_id:
            raise FieldError("trade_id", "That trade is in another portfolio.")
    if data.day > _owner_today(session, owner, now):
        raise FieldError("day", "The day of a journal entry cannot be in the future.")
    return JournalInput(
        day=data.day,
        body=check_name("body", data.body, "Entry", length=20_000),
        mistakes=check_text("mistakes", data.mistakes, "Mistakes"),
        emotions=check_text("emotions", data.emotions, "Emotions"),
        trade_id=data.trade_id,
    )


def add_entry(
    session: Session, *, owner: Owner, portfolio_id: int, data: JournalInput, now: datetime
) -> JournalView:
    """A new entry about a day (and optionally one trade) of the owner's portfolio."""
    owned_portfolio(session, owner=owner, portfolio_id=portfolio_id)
    policy.require(owner, Capability.PORTFOLIO)
    checked = _checked(session, owner=owner, portfolio_id=portfolio_id, data=data, now=now)
    row = JournalEntry(
        user_id=owner_id(owner),
        portfolio_id=portfolio_id,
        trade_id=checked.trade_id,
        day=checked.day,
        body=checked.body,
        mistakes=checked.mistakes,
        emotions=checked.emotions,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _view(row)


def _owned_entry(session: Session, *, owner: Owner, entry_id: int) -> JournalEntry:
    row = session.get(JournalEntry, entry_id)
    if row is None or row.user_id != owner_id(owner):
        raise NotFoundError(f"No journal entry with id {entry_id}.")
    return row


def update_entry(
    session: Session, *, owner: Owner, entry_id: int, data: JournalInput, now: datetime
) -> JournalView:
    row = _owned_entry(session, owner=owner, entry_id=entry_id)
    policy.require(owner, Capability.PORTFOLIO)
    checked = _checked(session, owner=owner, portfolio_id=row.portfolio_id, data=data, now=now)
    row.trade_id = checked.trade_id
    row.day, row.body = checked.day, checked.body
    row.mistakes, row.emotions = checked.mistakes, checked.emotions
    row.updated_at = now
    session.flush()
    return _view(row)


def delete_entry(session: Session, *, owner: Owner, entry_id: int) -> None:
    row = _owned_entry(session, owner=owner, entry_id=entry_id)
    session.execute(delete(JournalEntry).where(JournalEntry.id == row.id))
    session.expunge(row)


def get_entry(session: Session, *, owner: Owner, entry_id: int) -> JournalView:
    return _view(_owned_entry(session, owner=owner, entry_id=entry_id))


def list_entries(
    session: Session,
    *,
    owner: Owner,
    portfolio_id: int,
    trade_id: int | None = None,
    limit: int = 200,
) -> list[JournalView]:
    """A portfolio's entries (or one trade's), newest day first."""
    owned_portfolio(session, owner=owner, portfolio_id=portfolio_id)
    conditions: list[ColumnElement[bool]] = [JournalEntry.portfolio_id == portfolio_id]
    if trade_id is not None:
        conditions.append(JournalEntry.trade_id == trade_id)
    rows = session.scalars(
        select(JournalEntry)
        .where(*conditions)
        .order_by(JournalEntry.day.desc(), JournalEntry.id.desc())
        .limit(limit)
    )
    return [_view(r) for r in rows]


def _inline(text: str) -> str:
    """One escaped line with **bold** and *italic* (markers only around escaped text)."""
    line = str(escape(text))
    line = _BOLD.sub(r"<strong>\1</strong>", line)
    return _ITALIC.sub(r"<em>\1</em>", line)


def render_journal(text: str) -> Markup:
    """Plain text as safe HTML: everything escaped, then only **bold**, *italic*, line breaks
    and bullet lines (``- item`` or ``* item``) become markup."""
    parts: list[str] = []
    bullets: list[str] = []
    lines: list[str] = []

    def flush_lines() -> None:
        if lines:
            parts.append("<p>" + "<br>\n".join(lines) + "</p>")
            lines.clear()

    def flush_bullets() -> None:
        if bullets:
            parts.append("<ul>" + "".join(f"<li>{b}</li>" for b in bullets) + "</ul>")
            bullets.clear()

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        bullet = _BULLET.match(raw)
        if bullet:
            flush_lines()
            bullets.append(_inline(bullet.group(1)))
        elif raw.strip():
            flush_bullets()
            lines.append(_inline(raw))
        else:
            flush_lines()
            flush_bullets()
    flush_lines()
    flush_bullets()
    return Markup("\n".join(parts))  # noqa: S704 - every piece of text went through escape()
