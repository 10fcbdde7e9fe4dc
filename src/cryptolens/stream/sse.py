"""``GET /stream``: Server-Sent Events for the browser (docs/streaming.md)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from cryptolens.stream.auth import Refused
from cryptolens.stream.channels import ChannelError, parse_channels, refusal
from cryptolens.stream.gateway import MAX_CHANNELS, Gateway
from cryptolens.stream.hub import Client, CloseReason, TooManyConnections
from cryptolens.stream.items import replayable, sse_comment, sse_event
from cryptolens.stream.source import replay

GATEWAY = web.AppKey("gateway", Gateway)


def _refuse(gateway: Gateway, request: web.Request, status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": message}, status=status, headers=gateway.cors_headers(request)
    )


def _last_event_id(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


async def stream_events(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    try:
        channels = parse_channels(request.query.get("channels", "").split(","), limit=MAX_CHANNELS)
    except ChannelError as exc:
        return _refuse(gateway, request, 400, str(exc))
    viewer = await gateway.viewer(request)
    if isinstance(viewer, Refused):
        return _refuse(gateway, request, viewer.status, viewer.message)
    for channel in channels:
        reason = refusal(viewer, channel)
        if reason is not None:
            return _refuse(gateway, request, 403, reason)
    try:
        client = gateway.hub.admit(viewer)
    except TooManyConnections:
        return _refuse(gateway, request, 429, "Too many open streams for this account.")
    try:
        gateway.hub.subscribe(client, channels)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
                **gateway.cors_headers(request),
            }
        )
        await response.prepare(request)
        hello = {"plan": viewer.plan.value, "channels": [c.name for c in channels]}
        await response.write(sse_event("hello", hello))
        after = _last_event_id(request)
        if after is not None:
            await _replay(gateway, client, response, after)
        await _pump(gateway, client, request, response)
        return response
    finally:
        gateway.hub.remove(client)


async def _replay(
    gateway: Gateway, client: Client, response: web.StreamResponse, after: int
) -> None:
    """Stored items after ``after`` the client missed (live items wait in its queue)."""
    seconds = gateway.settings.stream_replay_seconds
    items = await asyncio.to_thread(replay, gateway.engine, after=after, seconds=seconds)
    client.sent_position = after
    for item in items:
        if item.channel in client.channels and replayable(client.viewer, item):
            await response.write(item.sse)
        client.sent_position = max(client.sent_position, item.position or 0)


async def _write(
    client: Client, request: web.Request, response: web.StreamResponse, data: bytes, timeout: float
) -> bool:
    """Write ``data``; a client that takes longer than ``timeout`` to take it is dropped
    (its connection aborted). False when the client is gone."""
    try:
        await asyncio.wait_for(response.write(data), timeout)
    except TimeoutError:
        client.close(CloseReason.SLOW)
        if request.transport is not None:
            request.transport.abort()
        return False
    except ConnectionError:
        return False
    return True


async def _pump(
    gateway: Gateway, client: Client, request: web.Request, response: web.StreamResponse
) -> None:
    """Write queued items and heartbeats until the client goes or is closed."""
    beat = gateway.settings.stream_heartbeat_seconds
    closed = asyncio.create_task(client.closed.wait())
    try:
        while client.closed_for is None:
            getter = asyncio.ensure_future(client.queue.get())
            done, _ = await asyncio.wait(
                {getter, closed}, timeout=beat, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                if client.closed_for is None and not await _write(
                    client, request, response, sse_comment("ping"), beat
                ):
                    return
                continue
            item = getter.result()
            if item.position is not None and item.position <= client.sent_position:
                continue  # already replayed
            if not await _write(client, request, response, item.sse, beat):
                return
        reason, _ = client.closed_for
        if client.closed_for != CloseReason.SLOW:
            await _write(client, request, response, sse_event("close", {"reason": reason}), 1.0)
    finally:
        closed.cancel()
