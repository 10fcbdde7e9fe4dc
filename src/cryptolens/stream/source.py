"""Where the gateway's items come from: the events table, read by position.

Without Redis every gateway process tails the table itself. With Redis one process at a
time (holding a lock that expires if it dies) tails the table and publishes each item on a
pub/sub channel every gateway process listens to, so N gateways cost one reader; the last
position published is kept in Redis, so the next leader goes on from there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy import Engine

from cryptolens.clock import utcnow
from cryptolens.services.ops.stream_feed import Feed, last_position, load_feed, sequence_waiting
from cryptolens.stream.items import StreamItem
from cryptolens.stream.translate import stream_items

log = logging.getLogger(__name__)

Publish = Callable[[StreamItem], None]

PUBSUB_CHANNEL = "cryptolens:stream:items"
LEADER_KEY = "cryptolens:stream:leader"
POSITION_KEY = "cryptolens:stream:position"
BATCH = 500
#: A replay reads at most this many batches (the window is minutes, not days).
MAX_REPLAY_BATCHES = 20


class Tailer:
    """Reads new events after ``position`` and turns them into items (blocking reads run in
    a thread)."""

    def __init__(self, engine: Engine, position: int) -> None:
        self.engine = engine
        self.position = position
        self._symbols: dict[int, str] = {}

    def read(self) -> list[StreamItem]:
        sequence_waiting(self.engine)
        feed = load_feed(self.engine, after=self.position, limit=BATCH, known_symbols=self._symbols)
        self._symbols = feed.symbols
        if feed.events:
            self.position = feed.events[-1].position
        return stream_items(feed)


def replay(engine: Engine, *, after: int, seconds: int) -> list[StreamItem]:
    """Items after position ``after`` recorded within the last ``seconds`` (a reconnecting
    client's Last-Event-ID), oldest first (blocking)."""
    since = utcnow() - timedelta(seconds=seconds)
    items: list[StreamItem] = []
    for _ in range(MAX_REPLAY_BATCHES):
        feed = load_feed(engine, after=after, limit=BATCH)
        if not feed.events:
            break
        after = feed.events[-1].position
        recent = [e for e in feed.events if e.created_at >= since]
        items += stream_items(Feed(recent, feed.symbols, feed.zones))
    return items


async def tail_locally(engine: Engine, publish: Publish, *, every: float) -> None:
    """Without Redis: tail the table from its current end, forever."""
    tailer = Tailer(engine, await asyncio.to_thread(last_position, engine))
    while True:
        try:
            for item in await asyncio.to_thread(tailer.read):
                publish(item)
                # Let the clients' writers take it before the next: a burst (a catch-up
                # scan) must not fill the queues of clients that keep up.
                await asyncio.sleep(0)
        except Exception:  # a database hiccup: try again next tick
            log.exception("reading events for the stream failed")
        await asyncio.sleep(every)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def lead_through_redis(redis: Redis[bytes], engine: Engine, *, every: float) -> None:
    """Tail the table and publish its items while this process holds the lock, forever."""
    me = _me()
    ttl_ms = int(max(every * 4, 2.0) * 1000)
    tailer: Tailer | None = None
    while True:
        try:
            leading = await redis.set(LEADER_KEY, me, nx=True, px=ttl_ms)
            if not leading and (await redis.get(LEADER_KEY)) == me.encode():
                leading = bool(await redis.pexpire(LEADER_KEY, ttl_ms))
            if not leading:
                tailer = None
            else:
                if tailer is None:
                    stored = await redis.get(POSITION_KEY)
                    top = await asyncio.to_thread(last_position, engine)
                    # Past the table's end: a database restored from an older backup.
                    start = int(stored) if stored and int(stored) <= top else top
                    tailer = Tailer(engine, start)
                items = await asyncio.to_thread(tailer.read)
                for item in items:
                    await redis.publish(PUBSUB_CHANNEL, item.to_wire())
                await redis.set(POSITION_KEY, tailer.position)
        except Exception:  # Redis or the database away: try again next tick
            log.exception("publishing stream events through Redis failed")
            tailer = None
        await asyncio.sleep(every)


async def listen_through_redis(redis: Redis[bytes], publish: Publish) -> None:
    """Hand every item another (or this) gateway published to ``publish``, forever."""
    while True:
        try:
            async with redis.pubsub() as pubsub:
                await pubsub.subscribe(PUBSUB_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        publish(StreamItem.from_wire(message["data"]))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("listening for stream events on Redis failed; reconnecting")
            await asyncio.sleep(1.0)
