"""What the stream sends: one item per event and channel, who may see it, and its wire
forms (an SSE frame, a WebSocket text message, a Redis message between gateways)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cryptolens.services.accounts import policy

SIGNAL, ZONE, CANDLE, PRICE = "signal", "zone", "candle", "price"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class StreamItem:
    """One message for ``channel``. ``position`` is the event's position (the SSE id a
    client resumes from; None for prices); ``pattern_types`` are what plan policy filters
    signals and zones by."""

    channel: str
    type: str
    data: Mapping[str, Any]
    symbol: str
    position: int | None = None
    pattern_types: tuple[str, ...] = field(default=())

    @cached_property
    def sse(self) -> bytes:
        head = f"id: {self.position}\n" if self.position is not None else ""
        return f"{head}event: {self.type}\ndata: {_dumps(self.data)}\n\n".encode()

    @cached_property
    def ws(self) -> str:
        return _dumps({"type": self.type, "id": self.position, "data": self.data})

    def to_wire(self) -> str:
        return _dumps(
            {
                "channel": self.channel,
                "type": self.type,
                "data": self.data,
                "symbol": self.symbol,
                "position": self.position,
                "pattern_types": list(self.pattern_types),
            }
        )

    @classmethod
    def from_wire(cls, raw: str | bytes) -> StreamItem:
        value = json.loads(raw)
        return cls(
            channel=str(value["channel"]),
            type=str(value["type"]),
            data=value["data"],
            symbol=str(value["symbol"]),
            position=value["position"],
            pattern_types=tuple(value["pattern_types"]),
        )


def visible(viewer: policy.Subject, item: StreamItem) -> bool:
    """Whether ``viewer``'s plan shows ``item``: no more than the pages (symbols, zone types)
    and the alerts (a signal only if every zone type it was built from is in the plan)."""
    allowed = policy.visible_symbols(viewer)
    if allowed is not None and item.symbol not in allowed:
        return False
    if item.type == SIGNAL:
        return bool(item.pattern_types) and policy.alert_allowed(
            viewer, symbol=item.symbol, pattern_types=item.pattern_types
        )
    if item.type == ZONE:
        return set(item.pattern_types) <= policy.pattern_types(viewer)
    return True


def delay_seconds(viewer: policy.Subject, item: StreamItem) -> int:
    """How long ``viewer`` waits for ``item``: a signal comes after the plan's alert delay."""
    return policy.notification_limits(viewer)[1] if item.type == SIGNAL else 0


def replayable(viewer: policy.Subject, item: StreamItem) -> bool:
    """Whether a stored item may be replayed to ``viewer``: visible, and not one a plan's
    alert delay holds back (those are not replayed)."""
    return visible(viewer, item) and delay_seconds(viewer, item) == 0


def sse_comment(text: str) -> bytes:
    return f": {text}\n\n".encode()


def sse_event(kind: str, data: Mapping[str, Any]) -> bytes:
    """An SSE frame without an id (hello, close)."""
    return f"event: {kind}\ndata: {_dumps(data)}\n\n".encode()


def ws_message(kind: str, data: Mapping[str, Any]) -> str:
    return _dumps({"type": kind, "id": None, "data": data})
