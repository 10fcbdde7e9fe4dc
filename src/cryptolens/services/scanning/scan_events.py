"""The domain events a scan records: built from what the scan already computed, stored in
its transaction. Candles closing are one event per symbol, timeframe and scan (not one per
candle: a catch-up after days down would otherwise write tens of thousands of them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cryptolens.detect import Zone, ZoneState
from cryptolens.domain.events import EventType, NewEvent, ZoneChange, zone_changes
from cryptolens.services.scanning.zone_rows import lifecycle_values


def candles_closed(
    symbol_id: int, timeframe: str, *, through: int, count: int, last: Mapping[str, float]
) -> NewEvent:
    """``count`` candles of ``timeframe`` closed, the last one opening at ``through`` with
    the prices and volume ``last`` (the real-time stream shows it without a query)."""
    payload = {"timeframe": timeframe, "through": through, "candles": count, "last": dict(last)}
    return NewEvent(EventType.CANDLE_CLOSED, symbol_id, payload)


def zone_changed(
    symbol_id: int, pattern_id: int, timeframe: str, before: ZoneState, after: ZoneState
) -> list[NewEvent]:
    """One event per lifecycle step a stored zone took (touched, filled, ...)."""
    return [
        NewEvent(
            EventType.ZONE_CHANGED,
            symbol_id,
            {"pattern_id": pattern_id, "timeframe": timeframe, "change": change.value, "at": at},
        )
        for change, at in zone_changes(lifecycle_values(before), lifecycle_values(after))
    ]


def zone_expired(symbol_id: int, pattern_id: int, timeframe: str, at: int) -> NewEvent:
    """A stored zone the expiry job closed (one no scan advances any more)."""
    payload = {
        "pattern_id": pattern_id,
        "timeframe": timeframe,
        "change": ZoneChange.EXPIRED.value,
        "at": at,
    }
    return NewEvent(EventType.ZONE_CHANGED, symbol_id, payload)


def zone_formed(symbol_id: int, timeframe: str, zone: Zone, state: ZoneState) -> NewEvent:
    """A new zone, with the status it already reached (formed and filled at once is one
    event: its pattern id is only known once the scan's bulk upsert has run)."""
    payload = {
        "timeframe": timeframe,
        "pattern_type": zone.pattern_type.value,
        "direction": zone.direction.value,
        "formed_at": zone.formed_at,
        "candle_time": zone.formed_open_time,
        "zone_low": zone.zone_low,
        "zone_high": zone.zone_high,
        "status": state.status.value,
    }
    return NewEvent(EventType.ZONE_FORMED, symbol_id, payload)


_SIGNAL_FIELDS = (
    "direction",
    "created_at",
    "entry",
    "stop",
    "timeframes",
    "confluence",
    "target_1",
    "target_2",
    "target_3",
)


def signal_created(
    symbol_id: int, signal_id: int, row: dict[str, Any], pattern_types: Sequence[str]
) -> NewEvent:
    """A new signal with what an alert or the real-time stream shows, and the zone types it
    was built from (plan policy decides who may see it by them)."""
    payload: dict[str, Any] = {"signal_id": signal_id}
    payload |= {k: row[k] for k in _SIGNAL_FIELDS}
    payload["pattern_types"] = sorted(set(pattern_types))
    return NewEvent(EventType.SIGNAL_CREATED, symbol_id, payload)
