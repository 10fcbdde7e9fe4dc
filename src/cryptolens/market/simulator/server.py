"""The simulator's HTTP server: Binance public endpoints, fault injection and admin API.

Use it in tests as a context manager (it binds 127.0.0.1 on a free port by default)::

    with SimulatorServer({"BTC/USDT": dataset}, start_at_ms=t0, speed=0) as sim:
        client = ExchangeClient("binance", api_url=sim.base_url, ...)

Admin endpoints (JSON in, JSON out; never faulted, never counted in the stats):

* ``GET /_sim/stats``, ``POST /_sim/stats/reset``
* ``GET /_sim/faults``; ``POST /_sim/faults`` with ``{"rules": [{"kind": "rate_limit",
  "probability": 0.3, ...}], "seed": 7, "append": false}``; ``DELETE /_sim/faults``
* ``POST /_sim/revise`` with ``{"symbol": "BTC/USDT", "open_time": ms, "close": 1.5, ...}``
* ``GET /_sim/clock``; ``POST /_sim/clock`` with ``{"now_ms": ..., "speed": ...,
  "advance_ms": ...}``
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptolens.market.simulator import api
from cryptolens.market.simulator.api import MarketBook, Response, binance_error
from cryptolens.market.simulator.clock import SimClock
from cryptolens.market.simulator.datasets import Dataset
from cryptolens.market.simulator.faults import (
    Fault,
    FaultInjector,
    FaultKind,
    FaultRule,
    server_error_status,
)

API_PREFIX = "/api/v3/"
ADMIN_PREFIX = "/_sim/"
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class SimStats:
    """Public (non-admin) traffic since start or the last reset."""

    requests: int
    by_endpoint: Mapping[str, int]
    in_flight: int
    max_in_flight: int
    faults: Mapping[str, int]

    def to_json(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "by_endpoint": dict(self.by_endpoint),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "faults": dict(self.faults),
        }


def default_start_ms(datasets: Mapping[str, Dataset]) -> int:
    """90 days after the latest first candle: every symbol has history, and a future."""
    firsts = [data.first_open_ms for data in datasets.values() if len(data)]
    return (max(firsts) if firsts else 0) + 90 * DAY_MS


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    simulator: SimulatorServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-answer (timeouts, disconnect faults) are expected here.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its load balancer
    timeout = 30  # idle keep-alive connections end eventually
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.server.simulator.handle(method, self.path, body)
        if response is None:  # a DISCONNECT fault: hang up without a word
            self.close_connection = True
            return
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:
            self.close_connection = True  # the client gave up (e.g. timed out on a SLOW fault)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")


class SimulatorServer:
    """A local Binance-compatible exchange over ``datasets`` (unified symbol → Dataset).

    ``synthesize_finer`` serves intervals finer than a dataset (e.g. 1m from hourly history)
    from sub-candles synthesised inside each candle (see ``refine``); without it such
    intervals are refused with Binance's -1120.
    """

    def __init__(
        self,
        datasets: Mapping[str, Dataset],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        start_at_ms: int | None = None,
        seed: int = 0,
        faults: Iterable[FaultRule] = (),
        synthesize_finer: bool = False,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.book = MarketBook(datasets)
        # Seeded by ``seed``: the same server configuration always invents the same candles.
        self._refine_seed = seed if synthesize_finer else None
        anchor = default_start_ms(datasets) if start_at_ms is None else start_at_ms
        self.clock = SimClock(anchor, speed=speed, wall=wall)
        self.faults = FaultInjector(faults, seed=seed)
        self._host = host
        self._port = port
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._by_endpoint: Counter[str] = Counter()
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def _bind(self) -> _HTTPServer:
        if self._httpd is None:
            self._httpd = _HTTPServer((self._host, self._port), _Handler)
            self._httpd.simulator = self
            self._stop.clear()
        return self._httpd

    def start(self) -> SimulatorServer:
        """Serve from a background thread; returns once the port is bound."""
        httpd = self._bind()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve from the calling thread until :meth:`stop` (or KeyboardInterrupt)."""
        try:
            self._bind().serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        self._stop.set()  # wakes handlers sleeping in a SLOW fault
        if self._httpd is not None and self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        elif self._httpd is not None:
            # serve_forever() runs in another thread that will close the socket itself.
            self._httpd.shutdown()
            return
        self._close()

    def _close(self) -> None:
        if self._httpd is not None:
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        httpd = self._bind()
        host, port = httpd.server_address[:2]
        return str(host), int(port)

    @property
    def base_url(self) -> str:
        """E.g. ``http://127.0.0.1:54321`` — give it to ExchangeClient as ``api_url``."""
        host, port = self.address
        return f"http://{host}:{port}"

    # -- test-facing controls --------------------------------------------------------------

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def stats(self) -> SimStats:
        with self._lock:
            return SimStats(
                requests=sum(self._by_endpoint.values()),
                by_endpoint=dict(self._by_endpoint),
                in_flight=self._in_flight,
                max_in_flight=self._max_in_flight,
                faults=self.faults.fired(),
            )

    def reset_stats(self) -> None:
        with self._lock:
            self._by_endpoint.clear()
            self._max_in_flight = self._in_flight
        self.faults.reset_counts()

    def revise_candle(self, symbol: str, open_time_ms: int, **changes: float) -> None:
        """Change a stored base candle (e.g. ``close=...``) as an exchange revision would."""
        self.book.revise(symbol, open_time_ms, changes)

    def list_symbol(self, symbol: str, data: Dataset) -> None:
        self.book.add(symbol, data)

    def delist_symbol(self, symbol: str) -> None:
        """Stop listing ``symbol``: exchangeInfo omits it and klines answer -1121."""
        self.book.remove(symbol)

    # -- request handling ------------------------------------------------------------------

    def handle(self, method: str, target: str, body: bytes = b"") -> Response | None:
        """Answer one request; None means "drop the connection" (a DISCONNECT fault)."""
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        if parts.path.startswith(ADMIN_PREFIX):
            return self._admin(method, parts.path[len(ADMIN_PREFIX) :], body)
        endpoint = parts.path[len(API_PREFIX) :] if parts.path.startswith(API_PREFIX) else ""
        with self._lock:
            self._by_endpoint[endpoint or parts.path] += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            return self._public(method, endpoint, query)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _public(self, method: str, endpoint: str, query: dict[str, list[str]]) -> Response | None:
        listing = api.symbol_param(self.book, query)
        fault = self.faults.draw(endpoint, listing.symbol if listing else None)
        if fault is not None:
            answered, response = self._transport_fault(fault)
            if answered:
                return response
        if method != "GET":
            return binance_error(-1, "Only GET is supported here.", status=405)
        now = self.clock.now_ms()
        if endpoint == "ping":
            return Response.json(200, {})
        if endpoint == "time":
            return Response.json(200, {"serverTime": now})
        if endpoint == "exchangeInfo":
            return api.exchange_info(self.book, query, now)
        if endpoint == "klines":
            data_fault = fault if fault is not None and fault.kind is not FaultKind.SLOW else None
            return api.klines(self.book, query, now, data_fault, self._refine_seed)
        return Response(404, b"<html><body><h1>404 Not Found</h1></body></html>")

    def _transport_fault(self, fault: Fault) -> tuple[bool, Response | None]:
        """(True, the answer) when ``fault`` answers instead of the exchange (None: drop the
        connection); (False, None) when the request goes on (slow, or a data fault)."""
        rule = fault.rule
        retry_after = (("Retry-After", str(rule.retry_after_s)),)
        if fault.kind is FaultKind.RATE_LIMIT:
            msg = "Too much request weight used; current limit is 6000 per 1 MINUTE."
            return True, Response.json(429, {"code": -1003, "msg": msg}, retry_after)
        if fault.kind is FaultKind.BAN:
            msg = "Way too much request weight used; IP banned until later."
            return True, Response.json(418, {"code": -1003, "msg": msg}, retry_after)
        if fault.kind is FaultKind.SERVER_ERROR:
            status = server_error_status(fault)
            if status == 500:
                msg = "Internal error; unable to process your request. Please try again."
                return True, Response.json(500, {"code": -1001, "msg": msg})
            # Gateways in front of the API answer with HTML, not Binance JSON.
            page = f"<html><body><h1>{status} Gateway Error</h1></body></html>".encode()
            return True, Response(status, page, (("Content-Type", "text/html"),))
        if fault.kind is FaultKind.DISCONNECT:
            return True, None
        if fault.kind is FaultKind.SLOW and self._stop.wait(rule.delay_s):
            return True, None  # stopping while it waited
        return False, None

    def _admin(self, method: str, path: str, body: bytes) -> Response:
        try:
            payload = json.loads(body) if body else {}
            if not isinstance(payload, dict):
                raise ValueError("expected a JSON object")
            return self._admin_route(method, path, payload)
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json(400, {"error": f"{type(exc).__name__}: {exc}"})

    def _admin_route(self, method: str, path: str, payload: dict[str, Any]) -> Response:
        if path == "stats" and method == "GET":
            return Response.json(200, self.stats().to_json())
        if path == "stats/reset" and method == "POST":
            self.reset_stats()
            return Response.json(200, self.stats().to_json())
        if path == "faults":
            if method == "POST":
                rules = [FaultRule.from_json(item) for item in payload.get("rules", [])]
                seed = payload.get("seed")
                if payload.get("append"):
                    self.faults.add(*rules)
                else:
                    self.faults.set_rules(rules, seed=None if seed is None else int(seed))
            elif method == "DELETE":
                self.faults.clear()
            return Response.json(200, {"rules": [rule.to_json() for rule in self.faults.rules]})
        if path == "revise" and method == "POST":
            symbol = str(payload.pop("symbol"))
            open_time = int(payload.pop("open_time"))
            self.revise_candle(symbol, open_time, **{k: float(v) for k, v in payload.items()})
            return Response.json(200, {"revised": symbol, "open_time": open_time})
        if path == "clock":
            if method == "POST":
                if "now_ms" in payload or "speed" in payload:
                    now = payload.get("now_ms")
                    speed = payload.get("speed")
                    self.clock.set(
                        now_ms=None if now is None else int(now),
                        speed=None if speed is None else float(speed),
                    )
                if "advance_ms" in payload:
                    self.clock.advance(int(payload["advance_ms"]))
            return Response.json(200, {"now_ms": self.clock.now_ms(), "speed": self.clock.speed})
        return Response.json(404, {"error": f"no admin endpoint {method} /_sim/{path}"})
