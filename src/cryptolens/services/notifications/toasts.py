"""Which new signals a page announces with a toast: the user's alert preferences (direction,
confluence, symbols, timeframes) cut to what their plan shows.

The page filters the stream's ``signal`` events with it; the stream itself already holds back
what the plan hides, so this only narrows what is announced, never widens it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.db.models import User
from cryptolens.services.accounts import policy
from cryptolens.services.notifications.preferences import DIRECTIONS, load_preferences


@dataclass(frozen=True, slots=True)
class ToastFilter:
    """``symbols`` and ``timeframes`` None: any (of those the plan shows)."""

    directions: tuple[str, ...]
    min_confluence: int
    symbols: tuple[str, ...] | None
    timeframes: tuple[str, ...] | None


def toast_filter(
    session: Session, *, user_id: int, subject: policy.Subject, settings: Settings | None = None
) -> ToastFilter:
    """The user's toast filter: their preferences' symbols (else their watchlist; an empty
    one: any symbol), never outside the symbols their plan shows."""
    prefs = load_preferences(session, user_id=user_id, settings=settings)
    watchlist = session.scalars(select(User.watchlist).where(User.id == user_id)).first()
    chosen = prefs.symbols if prefs.symbols is not None else tuple(watchlist or ())
    visible = policy.visible_symbols(subject)
    symbols: tuple[str, ...] | None = chosen or None
    if visible is not None:
        symbols = tuple(s for s in (chosen or sorted(visible)) if s in visible)
    return ToastFilter(
        directions=tuple(d for d in DIRECTIONS if d in prefs.directions),
        min_confluence=prefs.min_confluence,
        symbols=symbols,
        timeframes=prefs.timeframes,
    )
