"""Live price against the real exchange simulator: the forming candle of a watched symbol
and timeframe moves within its interval, at a request rate shared by every viewer."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.market.simulator import SimulatorServer
from tests.builders.market import HOUR, T0, client_for, exact_dataset
from tests.builders.stream import GatewayServer, SseClient, SseEvent, session_cookie

START = T0 + 3 * 24 * HOUR + 10 * 60_000  # ten minutes into an hour


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    # One simulated minute per real second: the forming hour moves while the test watches.
    server = SimulatorServer(
        {"BTC/USDT": exact_dataset(5 * 24 * 60)}, speed=60.0, start_at_ms=START
    ).start()
    yield server
    server.stop()


@pytest.fixture
def priced(
    settings: Settings, migrated_engine: Engine, app: Flask, simulator: SimulatorServer
) -> Iterator[GatewayServer]:
    server = GatewayServer(
        settings, migrated_engine, exchange=lambda: client_for(simulator.base_url)
    ).start()
    yield server
    server.stop()


def _prices(client: SseClient, count: int) -> list[SseEvent]:
    found: list[SseEvent] = []
    while len(found) < count:
        event = client.next()
        assert isinstance(event, SseEvent)
        if event.type == "price":
            found.append(event)
    return found


def test_the_forming_candle_moves_within_its_hour_and_is_never_closed(
    priced: GatewayServer, app: Flask
) -> None:
    cookie = session_cookie(app, "px@example.com", "pro")
    client = SseClient(priced.port, "price:BTC/USDT:1h", cookie=cookie)
    try:
        prices = _prices(client, 3)
    finally:
        client.close()
    hour = (START - START % HOUR) // 1000
    assert {p.data["time"] for p in prices} == {hour}
    assert all(p.data["closed"] is False and p.id is None for p in prices)
    assert len({(p.data["close"], p.data["volume"]) for p in prices}) == 3  # it moved
    volumes = [p.data["volume"] for p in prices]
    assert volumes == sorted(volumes)  # the hour fills up
    assert all(p.data["low"] <= p.data["close"] <= p.data["high"] for p in prices)


def test_viewers_of_a_symbol_share_its_request_rate_and_nobody_watching_stops_the_polls(
    priced: GatewayServer, app: Flask
) -> None:
    cookie = session_cookie(app, "many@example.com", "premium")
    clients = [
        SseClient(priced.port, f"price:BTC/USDT:{tf}", cookie=cookie) for tf in ("1h", "1h", "4h")
    ]
    try:
        for client in clients:
            client.events(1)
        started = time.monotonic()
        time.sleep(2.0)
        poller = priced.gateway.poller
        assert poller is not None
        asked = poller.requests
        elapsed = time.monotonic() - started
    finally:
        for client in clients:
            client.close()
    assert 2 <= asked <= 2 * elapsed + 2  # 2 a second for BTC/USDT, not 2 per viewer
    time.sleep(0.6)
    after = poller.requests
    time.sleep(1.0)
    assert poller.requests == after  # nobody watches: no more requests


def test_a_viewer_who_joins_later_gets_the_forming_candle_though_it_has_not_changed(
    priced: GatewayServer, app: Flask, simulator: SimulatorServer
) -> None:
    simulator.clock.set(speed=0.0)  # a quiet market: the forming candle stays as it is
    cookie = session_cookie(app, "late@example.com", "premium")
    first = SseClient(priced.port, "price:BTC/USDT:1h", cookie=cookie)
    try:
        seen = _prices(first, 1)[0].data
        late = SseClient(priced.port, "price:BTC/USDT:1h", cookie=cookie)
        try:
            deadline = time.monotonic() + 5
            got = None
            while got is None and time.monotonic() < deadline:
                event = late.next(comments=True)
                if isinstance(event, SseEvent) and event.type == "price":
                    got = event.data
            assert got == seen
        finally:
            late.close()
    finally:
        first.close()
