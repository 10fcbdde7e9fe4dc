"""A client that stops reading is dropped once its bounded queue is full, while a client
that keeps up gets everything: the gateway never buffers without bound."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.stream.items import StreamItem
from tests.builders.stream import GatewayServer, SseClient, SseEvent, session_cookie

ITEMS = 700
PAD = "x" * 16_000  # ~11 MB in all: far more than the kernel buffers a stalled reader


@pytest.fixture
def small_queues(
    settings: Settings, migrated_engine: Engine, app: Flask
) -> Iterator[GatewayServer]:
    tight = settings.model_copy(update={"stream_client_queue": 8})
    server = GatewayServer(tight, migrated_engine).start()
    yield server
    server.stop()


async def _publish(server: GatewayServer) -> None:
    for n in range(ITEMS):
        data = {"n": n, "pad": PAD}
        server.gateway.hub.publish(StreamItem("candles:BTC/USDT:1m", "candle", data, "BTC/USDT"))
        await asyncio.sleep(0.002)


def test_a_stalled_client_is_dropped_and_a_reading_one_gets_every_item(
    small_queues: GatewayServer, app: Flask
) -> None:
    channel = "candles:BTC/USDT:1m"
    cookie = session_cookie(app, "bp@example.com", "premium")
    stalled = SseClient(small_queues.port, channel, cookie=cookie, rcvbuf=4096, timeout=20)
    reading = SseClient(small_queues.port, channel, cookie=cookie, timeout=20)
    try:
        stalled.events(1)
        reading.events(1)
        got: list[int] = []

        def read_all() -> None:
            while len(got) < ITEMS:
                event = reading.next()
                assert isinstance(event, SseEvent)
                got.append(event.data["n"])

        reader = threading.Thread(target=read_all)
        reader.start()
        small_queues.run(_publish(small_queues), timeout=60)
        reader.join(30)
        assert got == list(range(ITEMS))
        hub = small_queues.gateway.hub
        assert hub.dropped == 1
        assert len(hub.clients) == 1  # only the reading client is still held
        assert all(c.queue.qsize() <= 8 for c in hub.clients)
    finally:
        stalled.close()
        reading.close()
