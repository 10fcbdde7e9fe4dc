"""``GET /ws``: the WebSocket feed for API clients (docs/streaming.md).

The client sends ``{"op": "subscribe" | "unsubscribe", "channels": [...]}``; the server
sends ``{"type", "id", "data"}``. Bad input closes the connection with a code naming it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from cryptolens.stream.auth import Refused, Viewer
from cryptolens.stream.channels import Channel, ChannelError, parse_channels, refusal
from cryptolens.stream.gateway import MAX_CHANNELS, Gateway
from cryptolens.stream.hub import Client, TooManyConnections
from cryptolens.stream.sse import GATEWAY

#: Close codes (4000-4999 are the application's): the reason is sent with each.
MALFORMED = 4400
CHANNEL_FORBIDDEN = 4403
UNKNOWN_CHANNEL = 4404
FLOOD = 4429


class _Closing(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _Flood:
    """Subscribe/unsubscribe messages within the last minute, at most ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.times: deque[float] = deque()

    def check(self) -> None:
        now = time.monotonic()
        while self.times and now - self.times[0] > 60.0:
            self.times.popleft()
        if len(self.times) >= self.limit:
            raise _Closing(FLOOD, f"More than {self.limit} subscribe messages a minute.")
        self.times.append(now)


def _request_of(text: str) -> tuple[str, tuple[Channel, ...]]:
    try:
        message: Any = json.loads(text)
    except ValueError:
        raise _Closing(MALFORMED, "Messages must be JSON objects.") from None
    if not isinstance(message, dict) or message.get("op") not in ("subscribe", "unsubscribe"):
        raise _Closing(MALFORMED, 'Send {"op": "subscribe" or "unsubscribe", "channels": [...]}.')
    raw = message.get("channels")
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise _Closing(MALFORMED, '"channels" must be a list of channel names.')
    try:
        return message["op"], parse_channels(raw, limit=MAX_CHANNELS)
    except ChannelError as exc:
        raise _Closing(UNKNOWN_CHANNEL, str(exc)[:120]) from None


def _handle(gateway: Gateway, client: Client, viewer: Viewer, text: str) -> None:
    op, channels = _request_of(text)
    if op == "unsubscribe":
        gateway.hub.unsubscribe(client, channels)
        return
    for channel in channels:
        reason = refusal(viewer, channel)
        if reason is not None:
            raise _Closing(CHANNEL_FORBIDDEN, reason[:120])
    if len(client.channels | {c.name for c in channels}) > MAX_CHANNELS:
        raise _Closing(MALFORMED, f"At most {MAX_CHANNELS} channels per connection.")
    gateway.hub.subscribe(client, channels)


async def _send(client: Client, ws: web.WebSocketResponse, beat: float) -> None:
    """Write queued items until the client is closed; a client slower than a heartbeat to
    take one is dropped."""
    while client.closed_for is None:
        item = await client.queue.get()
        try:
            await asyncio.wait_for(ws.send_str(item.ws), beat)
        except TimeoutError:
            client.close(("slow_client", 4408))
        except ConnectionError:
            return


async def stream_socket(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    settings = gateway.settings
    viewer = await gateway.viewer(request)
    if isinstance(viewer, Refused):
        return web.json_response({"error": viewer.message}, status=viewer.status)
    try:
        client = gateway.hub.admit(viewer)
    except TooManyConnections:
        return web.json_response({"error": "Too many open streams for this account."}, status=429)
    ws = web.WebSocketResponse(
        heartbeat=settings.stream_heartbeat_seconds,
        max_msg_size=settings.stream_ws_max_message_bytes,
    )
    sender: asyncio.Task[None] | None = None
    closer: asyncio.Task[bool] | None = None
    try:
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "id": None, "data": {"plan": viewer.plan.value}})
        sender = asyncio.create_task(_send(client, ws, settings.stream_heartbeat_seconds))
        closer = asyncio.create_task(client.closed.wait())
        flood = _Flood(settings.stream_subscribes_per_minute)
        await _receive(gateway, client, ws, flood, closer)
        return ws
    finally:
        for task in (sender, closer):
            if task is not None:
                task.cancel()
        gateway.hub.remove(client)


async def _receive(
    gateway: Gateway,
    client: Client,
    ws: web.WebSocketResponse,
    flood: _Flood,
    closer: asyncio.Task[bool],
) -> None:
    while not ws.closed:
        reader = asyncio.ensure_future(ws.receive())
        await asyncio.wait({reader, closer}, return_when=asyncio.FIRST_COMPLETED)
        if not reader.done():
            reader.cancel()
            reason, code = client.closed_for or ("closed", WSCloseCode.OK)
            await ws.close(code=code, message=reason.encode())
            return
        message = reader.result()
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            return
        if message.type is WSMsgType.ERROR:
            # aiohttp closed it already (e.g. 1009 for a message over the size limit).
            return
        try:
            if message.type is not WSMsgType.TEXT:
                raise _Closing(MALFORMED, "Send text messages (JSON).")
            flood.check()
            _handle(gateway, client, client.viewer, message.data)
        except _Closing as closing:
            await ws.close(code=closing.code, message=closing.reason.encode()[:120])
            return
