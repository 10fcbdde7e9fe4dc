"""Local receivers for notification tests: an ntfy-compatible server and a webhook receiver.

Each is a real aiohttp server on 127.0.0.1 (a free port) running in a background thread with
its own event loop. It records every request, can be told to answer an error for the next N
requests (``fail_next``), to take its time (``delay``, for timeouts) and counts requests in
flight (``max_in_flight``, for concurrency bounds). ``wait_for(n)`` blocks on a condition
variable until n requests arrived, never polling with sleeps. The ``ntfy_server`` and
``webhook_server`` fixtures (tests/conftest.py) start and stop them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any  # the parsed body, or None when it is not JSON
    client_port: int  # the client's port: one per connection, so reuse shows as repeats

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: str | None


class RecordingServer:
    """The shared machinery; subclasses say what a successful answer is."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        #: Seconds each answer waits before it is sent (a slow server, for timeouts).
        self.delay = 0.0
        self.max_in_flight = 0
        self._in_flight = 0
        self._failures: deque[_Failure] = deque()
        self._arrived = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._released: asyncio.Event | None = None  # set on stop: delayed answers go out
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = int(self._runner.addresses[0][1])
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._released is not None:
            self._loop.call_soon_threadsafe(self._released.set)
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def fail_next(self, status: int, count: int = 1, retry_after: str | int | None = None) -> None:
        """Answer ``status`` (with ``Retry-After`` when given) to the next ``count`` requests."""
        shown = None if retry_after is None else str(retry_after)
        with self._arrived:
            self._failures.extend(_Failure(status, shown) for _ in range(count))

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests once at least ``count`` arrived; AssertionError after ``timeout`` s."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} requests arrived, wanted {count}")
            return list(self.requests)

    def answer(self, received: Received) -> web.Response:
        return web.Response(text="ok")

    async def _wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when the server stops (so stopping never waits)."""
        if self._released is None:
            self._released = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), seconds)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        peer = request.transport.get_extra_info("peername") if request.transport else None
        port = int(peer[1]) if peer else 0
        received = Received(request.method, request.path, dict(request.headers), body, parsed, port)
        with self._arrived:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            failure = self._failures.popleft() if self._failures else None
        try:
            if self.delay:
                await self._wait(self.delay)
        finally:
            with self._arrived:
                self._in_flight -= 1
                self.requests.append(received)
                self._arrived.notify_all()
        if failure is not None:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return web.json_response(
                {"error": f"told to fail with {failure.status}"},
                status=failure.status,
                headers=headers,
            )
        return self.answer(received)


class NtfyServer(RecordingServer):
    """ntfy's publishing API: JSON to ``/`` (with ``topic``) or a text body to ``/<topic>``."""

    def messages(self) -> list[dict[str, Any]]:
        """Every published message as ntfy's JSON form (``topic`` filled in for text posts)."""
        found = []
        for request in self.requests:
            if isinstance(request.json, dict) and "topic" in request.json:
                found.append(request.json)
            else:
                text = request.body.decode(errors="replace")
                found.append({"topic": request.path.strip("/"), "message": text})
        return found

    def answer(self, received: Received) -> web.Response:
        topic = (received.json or {}).get("topic") if isinstance(received.json, dict) else None
        topic = topic or received.path.strip("/")
        if not topic:
            return web.json_response({"code": 40001, "error": "no topic"}, status=400)
        return web.json_response({"id": "m1", "event": "message", "topic": topic})


class WebhookServer(RecordingServer):
    """Any POST is accepted with ``200 ok``; tests check the body and its signature."""


class RedirectingServer(RecordingServer):
    """Answers every request with ``302 Found`` to ``location`` (a client that followed it
    would reach another server)."""

    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location

    def answer(self, received: Received) -> web.Response:
        return web.Response(status=302, headers={"Location": self.location})
