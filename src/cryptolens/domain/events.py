"""Domain events: what happened (a zone formed or changed, a signal was created, candles
closed), recorded in the same transaction as the change and handed to consumers later."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class EventType(StrEnum):
    SIGNAL_CREATED = "signal_created"
    ZONE_FORMED = "zone_formed"
    ZONE_CHANGED = "zone_changed"
    CANDLE_CLOSED = "candle_closed"


class ZoneChange(StrEnum):
    """What a ``zone_changed`` event reports (its payload's ``change``)."""

    TOUCHED = "touched"
    FILLED = "filled"
    INVALIDATED = "invalidated"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to record; its id and position are given when it is stored and sequenced."""

    type: EventType
    symbol_id: int | None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """A recorded event. ``position`` orders events as they became visible (committed);
    consumers see them in that order and keep the last position they handled."""

    position: int
    id: int
    type: EventType
    symbol_id: int | None
    payload: Mapping[str, Any]
    created_at: datetime


class Consumer(Protocol):
    """Something that reacts to events. ``handle`` may see an event again (after a crash
    before its cursor was stored), so it must be idempotent; raising leaves the cursor where
    it was, and the same batch comes back next time."""

    @property
    def name(self) -> str: ...

    def handle(self, events: Sequence[Event]) -> None: ...


def zone_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[tuple[ZoneChange, int]]:
    """The lifecycle steps a zone took between two states (``touched_at``, ``filled_at``,
    ``invalidated_at``, ``expired_at`` values), with the market time of each."""
    steps = []
    for change in ZoneChange:
        column = f"{change.value}_at"
        moment = after.get(column)
        if moment is not None and before.get(column) is None:
            steps.append((change, int(moment)))
    return steps
