"""The streaming gateway on loopback for tests: served from a background thread with its own
event loop, and plain-socket SSE and aiohttp WebSocket clients to talk to it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from aiohttp import web
from flask import Flask
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.db.events import record_events
from cryptolens.domain.events import EventType, NewEvent
from cryptolens.market.exchange import ExchangeClient
from cryptolens.stream.app import make_app
from cryptolens.stream.gateway import Gateway
from tests.web.accounts_helpers import signed_in_client

T = TypeVar("T")

#: The web app's origin in the stream tests' settings (PUBLIC_URL).
ORIGIN = "http://127.0.0.1:5000"


class GatewayServer:
    """A real gateway on 127.0.0.1 (an ephemeral port) until ``stop``."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        redis_url: str | None = None,
        exchange: Callable[[], ExchangeClient] | None = None,
    ) -> None:
        self.gateway = Gateway(settings, engine, redis_url=redis_url, exchange=exchange)
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0

    def start(self) -> GatewayServer:
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(make_app(self.gateway), shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coroutine`` on the gateway's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Callable[[], T]) -> T:
        async def wrapped() -> T:
            return function()

        return self.run(wrapped())

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._runner is not None:
            self.run(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@dataclass
class SseEvent:
    type: str
    data: Any
    id: int | None


class SseClient:
    """An SSE client over a plain socket (``rcvbuf`` makes a small receive buffer, to play
    a client that stops reading)."""

    def __init__(
        self,
        port: int,
        channels: str,
        *,
        cookie: str | None = None,
        headers: dict[str, str] | None = None,
        rcvbuf: int | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.sock = socket.socket()
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        lines = [f"GET /stream?channels={quote(channels, safe=',')} HTTP/1.1", "Host: 127.0.0.1"]
        if cookie is not None:
            lines.append(f"Cookie: session={cookie}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._file = self.sock.makefile("rb")
        status_line = self._file.readline().decode()
        self.status = int(status_line.split()[1])
        self.headers: dict[str, str] = {}
        while (line := self._file.readline().decode().strip()) != "":
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        self._buffer = b""

    def body(self) -> Any:
        """The JSON body of a refusal."""
        length = int(self.headers.get("content-length", "0"))
        return json.loads(self._file.read(length))

    def _more(self) -> bool:
        if not self.chunked:
            data = self._file.read1(65536)
            self._buffer += data
            return bool(data)
        size = int(self._file.readline().strip() or b"0", 16)
        if size == 0:
            return False
        self._buffer += self._file.read(size)
        self._file.readline()
        return True

    def next(self, *, comments: bool = False) -> SseEvent | str | None:
        """The next event (a comment as a str when ``comments``); None once the stream ends."""
        while True:
            while b"\n\n" not in self._buffer:
                if not self._more():
                    return None
            frame, self._buffer = self._buffer.split(b"\n\n", 1)
            fields: dict[str, str] = {}
            comment = None
            for line in frame.decode().split("\n"):
                if line.startswith(":"):
                    comment = line[1:].strip()
                    continue
                name, _, value = line.partition(": ")
                fields[name] = value
            if "event" in fields:
                raw_id = fields.get("id")
                return SseEvent(
                    fields["event"], json.loads(fields["data"]), int(raw_id) if raw_id else None
                )
            if comment is not None and comments:
                return comment

    def events(self, count: int) -> list[SseEvent]:
        found: list[SseEvent] = []
        while len(found) < count:
            event = self.next()
            assert isinstance(event, SseEvent), f"stream ended after {found}"
            found.append(event)
        return found

    def close(self) -> None:
        self._file.close()
        self.sock.close()


def record(engine: Engine, *events: NewEvent) -> None:
    with engine.begin() as connection:
        record_events(connection, list(events))


def signal_event(
    symbol_id: int, signal_id: int, *, pattern_types: tuple[str, ...] = ("fvg",)
) -> NewEvent:
    payload = {
        "signal_id": signal_id,
        "direction": "long",
        "created_at": 1_700_000_000_000,
        "entry": 100.0,
        "stop": 95.0,
        "timeframes": "1h,4h",
        "confluence": 2,
        "target_1": 105.0,
        "target_2": 110.0,
        "target_3": 115.0,
        "pattern_types": list(pattern_types),
    }
    return NewEvent(EventType.SIGNAL_CREATED, symbol_id, payload)


def zone_event(symbol_id: int, *, pattern_type: str = "fvg", formed_at: int = 1) -> NewEvent:
    payload = {
        "timeframe": "1h",
        "pattern_type": pattern_type,
        "direction": "bullish",
        "formed_at": formed_at,
        "candle_time": formed_at - 3_600_000,
        "zone_low": 99.0,
        "zone_high": 101.0,
        "status": "active",
    }
    return NewEvent(EventType.ZONE_FORMED, symbol_id, payload)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def session_cookie(app: Flask, email: str, plan: str | None) -> str:
    """The session cookie of a user signed in through the web app's login form."""
    client = signed_in_client(app, email, plan=plan)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value
