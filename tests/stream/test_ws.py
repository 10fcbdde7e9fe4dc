"""The WebSocket feed at /ws: subscribing with an API key, and bad input closing the
connection with a code that names it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from flask import Flask
from sqlalchemy import Engine

from tests.builders.api_keys import make_key
from tests.builders.stream import (
    ORIGIN,
    GatewayServer,
    record,
    session_cookie,
    signal_event,
    zone_event,
)
from tests.web.accounts_helpers import make_user

Scenario = Callable[[aiohttp.ClientWebSocketResponse], Awaitable[Any]]


@pytest.fixture
def key(app: Flask) -> str:
    person = make_user(app, "ws@example.com", plan="premium")
    return make_key(app, person.id, scopes=("read:stream",))[1]


def _over_ws(gateway: GatewayServer, key: str, scenario: Scenario) -> Any:
    async def run() -> Any:
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {key}"}
            async with http.ws_connect(f"{gateway.base}/ws", headers=headers) as ws:
                hello = await ws.receive_json(timeout=5)
                assert hello == {"type": "hello", "id": None, "data": {"plan": "premium"}}
                return await scenario(ws)

    return asyncio.run(run())


async def _close_of(ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str]:
    message = await ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.CLOSE, message
    return ws.close_code, str(message.extra or "")


def test_a_subscribed_client_gets_signals_as_typed_json(
    gateway: GatewayServer, key: str, migrated_engine: Engine, btc: int
) -> None:
    async def scenario(ws: aiohttp.ClientWebSocketResponse) -> Any:
        await ws.send_json({"op": "subscribe", "channels": ["signals"]})
        await asyncio.sleep(0.2)
        await asyncio.to_thread(record, migrated_engine, signal_event(btc, 5))
        return await ws.receive_json(timeout=5)

    message = _over_ws(gateway, key, scenario)
    assert message["type"] == "signal"
    assert isinstance(message["id"], int)
    assert message["data"]["id"] == 5


def test_unsubscribing_stops_the_channel(
    gateway: GatewayServer, key: str, migrated_engine: Engine, btc: int
) -> None:
    async def scenario(ws: aiohttp.ClientWebSocketResponse) -> Any:
        await ws.send_json({"op": "subscribe", "channels": ["signals", "zones:BTC/USDT"]})
        await ws.send_json({"op": "unsubscribe", "channels": ["signals"]})
        await asyncio.sleep(0.2)
        events = (signal_event(btc, 6), zone_event(btc, formed_at=9))
        await asyncio.to_thread(record, migrated_engine, *events)
        return await ws.receive_json(timeout=5)

    message = _over_ws(gateway, key, scenario)
    assert message["type"] == "zone"  # the signal before it was not sent
    assert message["data"]["formed_at"] == 9


@pytest.mark.parametrize(
    ("message", "code", "says"),
    [
        ("not json", 4400, "JSON"),
        ('{"op": "shout"}', 4400, "subscribe"),
        ('{"op": "subscribe", "channels": "signals"}', 4400, "list"),
        ('{"op": "subscribe", "channels": ["weather:BTC/USDT"]}', 4404, "Unknown channel"),
        ('{"op": "subscribe", "channels": ["candles:BTC/USDT:7m"]}', 4404, "timeframe"),
    ],
)
def test_bad_messages_close_with_a_code_naming_the_problem(
    gateway: GatewayServer, key: str, message: str, code: int, says: str
) -> None:
    async def scenario(ws: aiohttp.ClientWebSocketResponse) -> Any:
        await ws.send_str(message)
        return await _close_of(ws)

    closed_with, reason = _over_ws(gateway, key, scenario)
    assert closed_with == code
    assert says in reason


def test_an_oversize_message_closes_with_1009(gateway: GatewayServer, key: str) -> None:
    async def scenario(ws: aiohttp.ClientWebSocketResponse) -> Any:
        await ws.send_str('{"op": "subscribe", "channels": ["' + "x" * 10_000 + '"]}')
        return await _close_of(ws)

    assert _over_ws(gateway, key, scenario)[0] == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


def test_a_subscribe_flood_closes_with_4429(gateway: GatewayServer, key: str) -> None:
    async def scenario(ws: aiohttp.ClientWebSocketResponse) -> Any:
        for _ in range(31):  # 30 a minute allowed
            await ws.send_json({"op": "subscribe", "channels": ["signals"]})
        return await _close_of(ws)

    closed_with, reason = _over_ws(gateway, key, scenario)
    assert closed_with == 4429
    assert "30" in reason


def test_a_key_without_the_stream_scope_and_no_key_are_refused(
    gateway: GatewayServer, app: Flask
) -> None:
    person = make_user(app, "narrow@example.com", plan="premium")
    narrow = make_key(app, person.id, scopes=("read:signals",))[1]

    async def status(headers: dict[str, str]) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http:
            try:
                async with http.ws_connect(f"{gateway.base}/ws", headers=headers):
                    return 101, ""
            except aiohttp.WSServerHandshakeError as refused:
                return refused.status, refused.message

    assert asyncio.run(status({"Authorization": f"Bearer {narrow}"}))[0] == 403
    assert asyncio.run(status({}))[0] == 401
    assert asyncio.run(status({"Authorization": "Bearer cl_nonsense"}))[0] == 401


def test_connections_past_the_per_user_cap_are_refused_with_429(
    gateway: GatewayServer, key: str
) -> None:
    async def scenario() -> list[int]:
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {key}"}
            held = [await http.ws_connect(f"{gateway.base}/ws", headers=headers) for _ in range(10)]
            try:
                await http.ws_connect(f"{gateway.base}/ws", headers=headers)
            except aiohttp.WSServerHandshakeError as refused:
                return [refused.status, len(held)]
            finally:
                for ws in held:
                    await ws.close()
            return [101, len(held)]

    assert asyncio.run(scenario()) == [429, 10]


def test_the_session_cookie_opens_a_websocket_only_from_the_sites_own_origin(
    gateway: GatewayServer, app: Flask
) -> None:
    cookie = session_cookie(app, "cookie-ws@example.com", "pro")

    async def status(origin: str) -> int:
        headers = {"Cookie": f"session={cookie}", "Origin": origin}
        async with aiohttp.ClientSession() as http:
            try:
                async with http.ws_connect(f"{gateway.base}/ws", headers=headers) as ws:
                    hello = await ws.receive_json(timeout=5)
                    assert hello["data"] == {"plan": "pro"}
                    return 101
            except aiohttp.WSServerHandshakeError as refused:
                return refused.status

    assert asyncio.run(status(ORIGIN)) == 101
    assert asyncio.run(status("https://evil.example")) == 401  # cross-site WebSocket hijacking
