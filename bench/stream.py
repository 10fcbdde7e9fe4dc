"""The stream gateway under load: 1,000 concurrent SSE clients on one ``cryptolens stream``
process, each receiving every new signal; delivery latency from the commit of the signal's
event to its arrival at each client (p50, p99), the gateway's memory per connection, and the
web's page latency while those clients stay connected (gunicorn as in bench/web.py).

    python bench/stream.py [--clients 1000] [--signals 5] [--candles 1000000]
                           [--patterns 100000] [--requests 400] [--repeat 3]

The database is bench/web.py's seeded SQLite market; the gateway runs without Redis (it tails
the events table every STREAM_POLL_SECONDS, 0.25 s by default). The clients are asyncio
connections in this process (one Premium user, signed in through the login form); a signal is
recorded in its own transaction, the clock starts once it committed, and each client stops it
when the ``signal`` frame arrives. The clients share the machine's cores with the gateway, so
their own reading adds to what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from _common import header
from cryptolens.config import Settings
from cryptolens.db.engine import create_engine_for
from cryptolens.db.events import record_events
from cryptolens.db.models import Symbol
from cryptolens.services.scanning.scan_events import signal_created
from web import free_port, load, p99, seed, sign_in, start_gunicorn

GOAL_P50_S = 1.0
BENCH_SECRET = "bench-secret-key-long-enough-for-production-0123456789"
SIGNAL_ID = re.compile(rb'^data: \{"id":(\d+),"symbol"')
PAGES = {"patterns": "/patterns", "signals": "/signals", "dashboard": "/"}


def start_gateway(url: str, port: int, folder: Path, clients: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRYPTOLENS_ENV": "production",
        "SECRET_KEY": BENCH_SECRET,
        "PUBLIC_URL": "http://127.0.0.1",
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "STREAM_MAX_CONNECTIONS_PER_USER": str(clients + 10),
    }
    env.pop("REDIS_URL", None)
    log = (folder / "stream.log").open("wb")
    command = [sys.executable, "-m", "cryptolens", "stream", "--port", str(port)]
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            asyncio.run(_health(port))
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the gateway did not start; see {folder / 'stream.log'}")


async def _health(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /stream/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    await reader.read()
    writer.close()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS")


class Clients:
    """``count`` SSE connections to ``/stream?channels=signals``; arrival times per signal."""

    def __init__(self, port: int, cookie: str, count: int) -> None:
        self.port, self.cookie, self.count = port, cookie, count
        self.arrivals: dict[int, list[float]] = {}
        self.connected = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def _one(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writers.append(writer)
            request = (
                "GET /stream?channels=signals HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: {self.cookie}\r\n\r\n"
            )
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"stream refused: {head[:60]!r}")
            while b"event: hello" not in await reader.readline():
                pass
            self.connected += 1
        while line := await reader.readline():
            found = SIGNAL_ID.match(line)
            if found:
                self.arrivals.setdefault(int(found.group(1)), []).append(time.perf_counter())

    async def connect(self) -> None:
        gate = asyncio.Semaphore(50)
        self.tasks = [asyncio.create_task(self._one(gate)) for _ in range(self.count)]
        while self.connected < self.count:
            failed = [t for t in self.tasks if t.done() and t.exception()]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def record_signal(url: str, symbol_id: int, signal_id: int) -> float:
    """Commit one signal_created event; the moment the commit returned."""
    engine = record_signal.engines.setdefault(  # type: ignore[attr-defined]
        url,
        create_engine_for(Settings(_env_file=None, database_url=url)),
    )
    row = {
        "direction": "long",
        "created_at": int(time.time() * 1000),
        "entry": 100.0,
        "stop": 95.0,
        "timeframes": "1h",
        "confluence": 2,
        "target_1": 105.0,
        "target_2": 110.0,
        "target_3": 115.0,
    }
    with engine.begin() as connection:
        record_events(connection, [signal_created(symbol_id, signal_id, row, ["fvg"])])
    return time.perf_counter()


record_signal.engines = {}  # type: ignore[attr-defined]


async def measure_delivery(
    clients: Clients, url: str, symbol_id: int, signals: int
) -> list[list[float]]:
    runs = []
    for n in range(signals):
        signal_id = 1_000_000 + n
        committed = await asyncio.to_thread(record_signal, url, symbol_id, signal_id)
        deadline = time.monotonic() + 30
        while len(clients.arrivals.get(signal_id, ())) < clients.count:
            if time.monotonic() > deadline:
                got = len(clients.arrivals.get(signal_id, ()))
                raise SystemExit(f"signal {signal_id}: {got} of {clients.count} clients got it")
            await asyncio.sleep(0.01)
        runs.append([t - committed for t in clients.arrivals[signal_id]])
        # A pause that is no multiple of the gateway's poll, so signals land at any phase.
        await asyncio.sleep(0.3 + random.random() * 0.5)
    return runs


def page_latency(
    port: int, cookie: str, requests: int, repeat: int
) -> dict[str, tuple[float, float]]:
    figures = {}
    for name, path in PAGES.items():
        load(port, path, 40, cookie)  # warm the workers' caches
        runs = [load(port, path, requests, cookie) for _ in range(repeat)]
        figures[name] = (
            statistics.median(statistics.median(r) for r in runs),
            statistics.median(p99(r) for r in runs),
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--signals", type=int, default=5)
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--patterns", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.clients)), hard))
    header("bench/stream.py — 1,000 SSE clients on one gateway process")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'bench.sqlite'}"
        seed(url, args.candles, args.patterns)
        engine = create_engine_for(Settings(_env_file=None, database_url=url))
        with engine.connect() as connection:
            symbol_id = int(connection.execute(select(Symbol.id).limit(1)).scalar_one())
        web_port, stream_port = free_port(), free_port()
        web = start_gunicorn(url, web_port, folder, wait=120.0)
        gateway = start_gateway(url, stream_port, folder, args.clients)
        try:
            cookie = sign_in(web_port)
            print(f"load average before: {os.getloadavg()[0]:.2f}")
            before_pages = page_latency(web_port, cookie, args.requests, args.repeat)
            asyncio.run(
                run_clients(
                    args, url, symbol_id, stream_port, cookie, gateway.pid, web_port, before_pages
                )
            )
        finally:
            for process in (gateway, web):
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()


async def run_clients(
    args: argparse.Namespace,
    url: str,
    symbol_id: int,
    stream_port: int,
    cookie: str,
    gateway_pid: int,
    web_port: int,
    before_pages: dict[str, tuple[float, float]],
) -> None:
    idle_kib = rss_kib(gateway_pid)
    clients = Clients(stream_port, cookie, args.clients)
    started = time.perf_counter()
    await clients.connect()
    took = time.perf_counter() - started
    await asyncio.sleep(1.0)
    held_kib = rss_kib(gateway_pid)
    print(f"{clients.count} clients connected in {took:.1f} s")
    print(
        f"gateway RSS: {idle_kib / 1024:.1f} MiB idle, {held_kib / 1024:.1f} MiB with "
        f"{clients.count} clients: {(held_kib - idle_kib) / clients.count:.1f} KiB per connection"
    )
    runs = await measure_delivery(clients, url, symbol_id, args.signals)
    p50s = [statistics.median(r) for r in runs]
    p99s = [float(np.percentile(r, 99)) for r in runs]
    p50, p99_ = statistics.median(p50s), statistics.median(p99s)
    each = ", ".join(f"{v * 1000:.0f}" for v in p50s)
    print(
        f"delivery from commit, {len(runs)} signals x {clients.count} clients: "
        f"p50 {p50 * 1000:.0f} ms (runs: {each}), p99 {p99_ * 1000:.0f} ms, "
        f"max {max(max(r) for r in runs) * 1000:.0f} ms; goal p50 <= {GOAL_P50_S:.0f} s: "
        f"{'met' if p50 <= GOAL_P50_S else 'MISSED'}"
    )
    during = await asyncio.to_thread(page_latency, web_port, cookie, args.requests, args.repeat)
    print("page latency, 8 clients (median / p99), without -> with the SSE clients connected:")
    for name in PAGES:
        (m0, q0), (m1, q1) = before_pages[name], during[name]
        print(f"  {name:10} {m0:6.1f} / {q0:6.1f} ms -> {m1:6.1f} / {q1:6.1f} ms")
    await clients.close()


if __name__ == "__main__":
    main()
