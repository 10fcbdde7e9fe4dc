"""Stream channels: their names, parsing, and whether a viewer's plan lets them be opened."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cryptolens.domain.errors import ValidationError
from cryptolens.domain.symbols import parse_symbol
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.services.accounts import policy

#: Longest channel name accepted (a symbol and a timeframe fit easily).
MAX_CHANNEL_LENGTH = 64


class ChannelKind(StrEnum):
    SIGNALS = "signals"
    ZONES = "zones"
    CANDLES = "candles"
    PRICE = "price"


class ChannelError(ValueError):
    """A channel name that names no channel; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Channel:
    kind: ChannelKind
    symbol: str | None = None
    timeframe: str | None = None

    @property
    def name(self) -> str:
        parts = [self.kind.value, self.symbol, self.timeframe]
        return ":".join(p for p in parts if p is not None)


_PARTS = {
    ChannelKind.SIGNALS: 1,
    ChannelKind.ZONES: 2,
    ChannelKind.CANDLES: 3,
    ChannelKind.PRICE: 3,
}
_USAGE = "signals, zones:<SYMBOL>, candles:<SYMBOL>:<TF> or price:<SYMBOL>:<TF>"


def parse_channel(text: str) -> Channel:
    """The channel ``text`` names; ChannelError saying what is wrong otherwise."""
    shown = text[:MAX_CHANNEL_LENGTH]
    if len(text) > MAX_CHANNEL_LENGTH:
        raise ChannelError(f"Channel {shown!r}... is too long.")
    parts = text.strip().split(":")
    try:
        kind = ChannelKind(parts[0].lower())
    except ValueError:
        raise ChannelError(f"Unknown channel {shown!r}; use {_USAGE}.") from None
    if len(parts) != _PARTS[kind]:
        raise ChannelError(f"Unknown channel {shown!r}; use {_USAGE}.")
    if kind is ChannelKind.SIGNALS:
        return Channel(kind)
    try:
        symbol = parse_symbol(parts[1])
    except ValidationError:
        raise ChannelError(f"Channel {shown!r}: {parts[1][:20]!r} is not a symbol.") from None
    if kind is ChannelKind.ZONES:
        return Channel(kind, symbol)
    timeframe = parts[2]
    if timeframe not in TIMEFRAME_MS:
        known = ", ".join(TIMEFRAME_MS)
        raise ChannelError(f"Channel {shown!r}: unknown timeframe; use one of {known}.")
    return Channel(kind, symbol, timeframe)


def parse_channels(raw: Iterable[str], *, limit: int) -> tuple[Channel, ...]:
    """Distinct channels (blank entries skipped); ChannelError for a bad one, none, or more
    than ``limit``."""
    found: list[Channel] = []
    for text in raw:
        if not text.strip():
            continue
        channel = parse_channel(text)
        if channel not in found:
            found.append(channel)
    if not found:
        raise ChannelError(f"Name at least one channel: {_USAGE}.")
    if len(found) > limit:
        raise ChannelError(f"At most {limit} channels per connection.")
    return tuple(found)


def refusal(viewer: policy.Subject, channel: Channel) -> str | None:
    """Why ``viewer``'s plan may not open ``channel`` (None: it may). Signals are filtered
    one by one instead, as the alerts are."""
    if channel.symbol is None:
        return None
    allowed = policy.visible_symbols(viewer)
    if allowed is not None and channel.symbol not in allowed:
        return f"Your plan does not include {channel.symbol}; upgrade to Pro to follow it."
    return None
