"""The connected clients of one gateway process: who follows which channel, a bounded queue
per client (a client that falls behind is dropped, never buffered without bound), the cap on
connections per user, and the delivery of every item to the clients allowed to see it."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from cryptolens.stream.auth import Viewer
from cryptolens.stream.channels import Channel, ChannelKind
from cryptolens.stream.items import StreamItem, delay_seconds, visible

log = logging.getLogger(__name__)


class CloseReason:
    """Why the gateway closed a connection: an SSE ``close`` event's reason, and the
    WebSocket close code it is sent with."""

    SLOW = ("slow_client", 4408)
    ENDED = ("session_ended", 4401)
    SHUTDOWN = ("shutdown", 1001)
    GONE = ("gone", 1000)


class TooManyConnections(Exception):
    """The user already holds the most connections allowed."""


@dataclass(eq=False)
class Client:
    """One connection: its viewer, its channels and the items waiting to be written."""

    viewer: Viewer
    queue: asyncio.Queue[StreamItem]
    channels: frozenset[str] = frozenset()
    #: Items with a position at or below this were sent already (replay before live).
    sent_position: int = 0
    closed_for: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        self.closed = asyncio.Event()

    def offer(self, item: StreamItem) -> None:
        if self.closed_for is not None:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.close(CloseReason.SLOW)

    def close(self, reason: tuple[str, int]) -> None:
        if self.closed_for is None:
            self.closed_for = reason
            self.closed.set()


class Hub:
    def __init__(self, *, queue_size: int, max_per_user: int) -> None:
        self._queue_size = queue_size
        self._max_per_user = max_per_user
        self._by_channel: dict[str, set[Client]] = defaultdict(set)
        self._by_user: dict[int, set[Client]] = defaultdict(set)
        #: How many times a client joined each channel (a new viewer of a price channel gets
        #: the forming candle at once, not when it next changes).
        self.joins: Counter[str] = Counter()
        self.delivered = 0
        self.dropped = 0

    @property
    def clients(self) -> list[Client]:
        return [c for group in self._by_user.values() for c in group]

    def admit(self, viewer: Viewer) -> Client:
        """A new client of ``viewer``; TooManyConnections past the per-user cap."""
        mine = self._by_user[viewer.user_id]
        if len(mine) >= self._max_per_user:
            raise TooManyConnections
        client = Client(viewer, asyncio.Queue(self._queue_size))
        mine.add(client)
        return client

    def subscribe(self, client: Client, channels: Iterable[Channel]) -> None:
        names = {c.name for c in channels}
        for name in names - client.channels:
            self._by_channel[name].add(client)
            self.joins[name] += 1
        client.channels |= names

    def unsubscribe(self, client: Client, channels: Iterable[Channel]) -> None:
        names = {c.name for c in channels} & client.channels
        for name in names:
            self._forget(name, client)
        client.channels -= names

    def _forget(self, name: str, client: Client) -> None:
        group = self._by_channel.get(name)
        if group is not None:
            group.discard(client)
            if not group:
                del self._by_channel[name]

    def remove(self, client: Client) -> None:
        client.close(CloseReason.GONE)  # a delayed item due later is not queued for it
        for name in client.channels:
            self._forget(name, client)
        mine = self._by_user.get(client.viewer.user_id)
        if mine is not None:
            mine.discard(client)
            if not mine:
                del self._by_user[client.viewer.user_id]
        if client.closed_for == CloseReason.SLOW:
            self.dropped += 1

    def publish(self, item: StreamItem) -> None:
        """Queue ``item`` for every client of its channel whose plan shows it; a signal
        reaches a plan with an alert delay only after that delay."""
        later: dict[int, list[Client]] = defaultdict(list)
        for client in list(self._by_channel.get(item.channel, ())):
            if not visible(client.viewer, item):
                continue
            wait = delay_seconds(client.viewer, item)
            if wait > 0:
                later[wait].append(client)
            else:
                client.offer(item)
                self.delivered += 1
        loop = asyncio.get_running_loop() if later else None
        for wait, clients in later.items():
            assert loop is not None
            loop.call_later(wait, self._offer_late, item, clients)

    def _offer_late(self, item: StreamItem, clients: list[Client]) -> None:
        for client in clients:
            if item.channel in client.channels:
                client.offer(item)

    def viewed(self, kind: ChannelKind) -> list[str]:
        """Channels of ``kind`` that have at least one client (e.g. the prices to poll)."""
        prefix = f"{kind.value}:"
        return sorted(name for name in self._by_channel if name.startswith(prefix))

    def close_all(self, reason: tuple[str, int]) -> None:
        for client in self.clients:
            client.close(reason)
