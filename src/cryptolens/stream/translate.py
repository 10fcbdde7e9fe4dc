"""Domain events as stream items: the contract's payloads (docs/streaming.md), one item per
event and channel. Events recorded before a payload carried what the stream needs are
skipped rather than sent half-filled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptolens.domain.events import Event, EventType
from cryptolens.services.ops.stream_feed import Feed
from cryptolens.stream.items import CANDLE, PRICE, SIGNAL, ZONE, StreamItem

_SIGNAL_NEEDS = ("signal_id", "direction", "created_at", "entry", "stop", "target_1")
_CANDLE_FIELDS = ("open", "high", "low", "close", "volume")


def _signal(event: Event, symbol: str) -> StreamItem | None:
    p = event.payload
    if any(k not in p for k in (*_SIGNAL_NEEDS, "pattern_types")):
        return None
    timeframes = p.get("timeframes") or ""
    data = {
        "id": p["signal_id"],
        "symbol": symbol,
        "direction": p["direction"],
        "timeframes": [t for t in str(timeframes).split(",") if t],
        "confluence": p.get("confluence"),
        "entry": p["entry"],
        "stop": p["stop"],
        "targets": [p.get("target_1"), p.get("target_2"), p.get("target_3")],
        "created_at": p["created_at"],
        "url": f"/signals/{p['signal_id']}",
    }
    return StreamItem("signals", SIGNAL, data, symbol, event.position, tuple(p["pattern_types"]))


def _zone(symbol: str, position: int, values: Mapping[str, Any]) -> StreamItem:
    data = {
        "id": values.get("id"),
        "symbol": symbol,
        "timeframe": values["timeframe"],
        "type": values["type"],
        "direction": values["direction"],
        "low": values["low"],
        "high": values["high"],
        "status": values["status"],
        "change": values["change"],
        "candle_time": values.get("candle_time"),
        "formed_at": values.get("formed_at"),
    }
    return StreamItem(f"zones:{symbol}", ZONE, data, symbol, position, (values["type"],))


def _zone_formed(event: Event, symbol: str) -> StreamItem | None:
    p = event.payload
    if "pattern_type" not in p:
        return None
    values = {
        "id": p.get("pattern_id"),
        "timeframe": p["timeframe"],
        "type": p["pattern_type"],
        "direction": p["direction"],
        "low": p["zone_low"],
        "high": p["zone_high"],
        "status": p["status"],
        "change": "formed",
        "candle_time": p.get("candle_time"),
        "formed_at": p["formed_at"],
    }
    return _zone(symbol, event.position, values)


def _zone_changed(event: Event, symbol: str, row: Mapping[str, Any] | None) -> StreamItem | None:
    if row is None:  # the zone is gone (deleted with its symbol)
        return None
    values = {
        "id": row["id"],
        "timeframe": row["timeframe"],
        "type": row["pattern_type"],
        "direction": row["direction"],
        "low": row["zone_low"],
        "high": row["zone_high"],
        # What the zone became at this step (a later step may already be stored).
        "status": event.payload.get("change", row["status"]),
        "change": event.payload.get("change"),
        "candle_time": row["candle_time"],
        "formed_at": row["formed_at"],
    }
    return _zone(symbol, event.position, values)


def candle_data(
    symbol: str, timeframe: str, open_time_ms: int, values: Mapping[str, float], *, closed: bool
) -> dict[str, Any]:
    """A candle as the stream (and the chart API) shows it: time in seconds."""
    data: dict[str, Any] = {"symbol": symbol, "timeframe": timeframe, "time": open_time_ms // 1000}
    data |= {k: float(values[k]) for k in _CANDLE_FIELDS}
    data["closed"] = closed
    return data


def _candle(event: Event, symbol: str) -> StreamItem | None:
    p = event.payload
    last = p.get("last")
    if not isinstance(last, Mapping) or any(k not in last for k in _CANDLE_FIELDS):
        return None
    tf = str(p["timeframe"])
    data = candle_data(symbol, tf, int(p["through"]), last, closed=True)
    return StreamItem(f"candles:{symbol}:{tf}", CANDLE, data, symbol, event.position)


def price_item(
    symbol: str, timeframe: str, open_time_ms: int, values: Mapping[str, float]
) -> StreamItem:
    """The forming candle of ``timeframe`` (no position: prices are not replayed)."""
    data = candle_data(symbol, timeframe, open_time_ms, values, closed=False)
    return StreamItem(f"price:{symbol}:{timeframe}", PRICE, data, symbol)


def stream_items(feed: Feed) -> list[StreamItem]:
    """The items of ``feed``'s events, in position order."""
    items: list[StreamItem] = []
    for event in feed.events:
        symbol = feed.symbols.get(event.symbol_id) if event.symbol_id is not None else None
        if symbol is None:
            continue
        item: StreamItem | None = None
        if event.type is EventType.SIGNAL_CREATED:
            item = _signal(event, symbol)
        elif event.type is EventType.ZONE_FORMED:
            item = _zone_formed(event, symbol)
        elif event.type is EventType.ZONE_CHANGED:
            pattern_id = event.payload.get("pattern_id")
            row = feed.zones.get(int(pattern_id)) if pattern_id is not None else None
            item = _zone_changed(event, symbol, row)
        elif event.type is EventType.CANDLE_CLOSED:
            item = _candle(event, symbol)
        if item is not None:
            items.append(item)
    return items
