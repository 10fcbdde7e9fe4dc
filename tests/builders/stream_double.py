"""A TEST DOUBLE of the stream gateway (``cryptolens stream``, issue 19), for the browser
tests of the live pages until they run against the gateway itself.

It speaks the stream contract's SSE side only: ``GET /stream?channels=...`` on 127.0.0.1 (a
free port), CORS with credentials for one origin (the app's; chromium's EventSource sends no
preflight, with or without Last-Event-ID), ``hello`` on connect, events with ``id:`` lines
pushed by the test (``send``), ``Last-Event-ID`` recorded. It holds no plan policy and no
replay: the tests push exactly what a page should receive. ``drop`` closes every open stream
(the browser reconnects by itself); with ``refusing`` set it answers 503 (the browser gives
up and the page retries later). A real aiohttp server in a background thread with its own
event loop, like tests/builders/notify_servers.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

#: The contract's channels: signals, zones:<SYMBOL>, candles:<SYMBOL>:<TF>, price:<SYMBOL>:<TF>.
CHANNEL = re.compile(
    r"signals|zones:[A-Z0-9]+/[A-Z0-9]+|(candles|price):[A-Z0-9]+/[A-Z0-9]+:\d+[mhdw]"
)
#: How soon a dropped browser reconnects (the SSE ``retry`` field), to keep tests quick.
RETRY_MS = 300


@dataclass
class Connection:
    """One stream a browser opened."""

    channels: tuple[str, ...]
    last_event_id: str | None
    cookie: str | None
    origin: str | None
    queue: asyncio.Queue[bytes | None] = field(repr=False)


def frame(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    """One SSE message as the contract writes it."""
    lines = [] if event_id is None else [f"id: {event_id}"]
    lines += [f"event: {event}", f"data: {json.dumps(data)}"]
    return ("\n".join(lines) + "\n\n").encode()


class StreamDouble:
    def __init__(self) -> None:
        #: The app's origin, answered in Access-Control-Allow-Origin (set once it is known).
        self.origin = ""
        self.refusing = False
        #: Streams open now, and every stream ever opened (in order).
        self.connections: list[Connection] = []
        self.opened: list[Connection] = []
        self._last_id = 0
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        app = web.Application()
        app.router.add_get("/stream", self._stream)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = int(self._runner.addresses[0][1])
        self._thread.start()
        return self

    def stop(self) -> None:
        self.drop()
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def open_streams(self) -> list[Connection]:
        with self._changed:
            return list(self.connections)

    def wait_for_connection(
        self, count: int = 1, *, channel: str | None = None, timeout: float = 10.0
    ) -> Connection:
        """The ``count``-th stream ever opened (with ``channel`` among its channels, when
        given); AssertionError after ``timeout`` seconds."""

        def found() -> list[Connection]:
            return [c for c in self.opened if channel is None or channel in c.channels]

        with self._changed:
            if not self._changed.wait_for(lambda: len(found()) >= count, timeout):
                raise AssertionError(f"{len(found())} streams with {channel!r}, wanted {count}")
            return found()[count - 1]

    def current(self, channel: str, timeout: float = 10.0) -> Connection:
        """The newest open stream subscribed to ``channel`` (waiting up to ``timeout`` s)."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: any(channel in c.channels for c in self.connections), timeout
            ):
                raise AssertionError(f"no open stream with {channel!r}")
            return [c for c in self.connections if channel in c.channels][-1]

    def send(self, event: str, data: dict[str, Any], *, channel: str) -> int | None:
        """Push one event to every open stream subscribed to ``channel``; its id (none for
        ``price``, as in the contract)."""
        event_id = None
        if event != "price":
            self._last_id += 1
            event_id = self._last_id
        payload = frame(event, data, event_id)
        for connection in self.open_streams():
            if channel in connection.channels:
                self._loop.call_soon_threadsafe(connection.queue.put_nowait, payload)
        return event_id

    def drop(self) -> None:
        """Close every open stream from the server's side."""
        for connection in self.open_streams():
            self._loop.call_soon_threadsafe(connection.queue.put_nowait, None)
        with self._changed:
            self.connections = []

    def _cors(self) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": self.origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        if self.refusing:
            return web.Response(status=503, text="the gateway is down", headers=self._cors())
        channels = tuple(c for c in request.query.get("channels", "").split(",") if c)
        unknown = [c for c in channels if not CHANNEL.fullmatch(c)]
        if not channels or unknown:
            text = f"unknown channel {unknown[0]!r}" if unknown else "channels is required"
            return web.Response(status=400, text=text, headers=self._cors())
        response = web.StreamResponse(
            headers=self._cors()
            | {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        connection = Connection(
            channels=channels,
            last_event_id=request.headers.get("Last-Event-ID"),
            cookie=request.headers.get("Cookie"),
            origin=request.headers.get("Origin"),
            queue=asyncio.Queue(),
        )
        await response.write(f"retry: {RETRY_MS}\n\n".encode())
        await response.write(frame("hello", {"plan": "premium", "channels": list(channels)}))
        with self._changed:
            self.connections.append(connection)
            self.opened.append(connection)
            self._changed.notify_all()
        try:
            while (payload := await connection.queue.get()) is not None:
                await response.write(payload)
        except ConnectionError:
            pass  # the browser went away (a page left)
        finally:
            with self._changed:
                if connection in self.connections:
                    self.connections.remove(connection)
        return response
