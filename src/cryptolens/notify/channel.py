"""The channel interface every way of reaching a user implements (email now; ntfy, webhook
and Apprise next): a channel takes one ``Message`` and says how the delivery went."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol


class Priority(IntEnum):
    """ntfy's five levels; channels without priorities ignore it."""

    MIN = 1
    LOW = 2
    DEFAULT = 3
    HIGH = 4
    URGENT = 5


@dataclass(frozen=True, slots=True)
class Action:
    """A button the receiving app may show beside the message (ntfy "view" actions)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Message:
    """What to say, independent of the channel; ``html`` is used where the channel renders it,
    ``data`` (JSON-able) by channels that carry structured content (webhooks)."""

    title: str
    body: str
    priority: Priority = Priority.DEFAULT
    tags: tuple[str, ...] = ()
    click_url: str | None = None
    actions: tuple[Action, ...] = ()
    html: str | None = None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    """The channel accepted the message."""


@dataclass(frozen=True, slots=True)
class Retryable:
    """A passing failure (network, 4xx SMTP, HTTP 429/5xx): try again, not before
    ``retry_after`` seconds when the far end said so."""

    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Permanent:
    """Retrying cannot help (address refused, bad credentials, topic gone)."""

    reason: str


DeliveryResult = Delivered | Retryable | Permanent


class Channel(Protocol):
    """One configured destination (an address, a topic, a URL) of one ``kind``."""

    @property
    def kind(self) -> str: ...

    def send(self, message: Message) -> DeliveryResult: ...
