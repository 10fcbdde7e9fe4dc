"""Alert delivery at volume and latency, over real HTTP to a local ntfy-compatible receiver.

    python bench/notify.py [--subscribers 10000] [--repeat 3] [--signals 20] [--redis URL]

1. Fan-out: one signal to ``--subscribers`` Premium users, each with an ntfy channel on the
   local receiver, through what the ``send_signal_notifications`` job runs (fan-out, then
   delivery); timed from the job's start until the receiver holds every message. Goal ≤ 5 s.
2. Latency: with ``cryptolens scheduler`` and ``cryptolens worker`` running (Redis), a signal
   and its event are committed as the scanner commits them; timed until the receiver gets the
   message. p50 and p99 over ``--signals`` signals. Goal p50 ≤ 2 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from _common import header
from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.accounts import Subscription, User
from cryptolens.db.engine import create_engine_for
from cryptolens.db.events import record_events
from cryptolens.db.models import Pattern, Signal, SignalPattern
from cryptolens.db.notifications import NotificationChannel
from cryptolens.db.symbols import ensure_symbol
from cryptolens.notify.targets import ChannelKind, Target, redact, target_to_json
from cryptolens.services.notifications.channels import target_box
from cryptolens.services.notifications.runs import send_signal_notifications
from cryptolens.services.scanning.scan_events import signal_created

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench secret key that is long enough for production rules 1234567890"
GOAL_FANOUT_SECONDS = 5.0
GOAL_P50_SECONDS = 2.0


RECEIVER = """
import sys, time
from aiohttp import web

count = 0
arrived = {}

async def publish(request):
    global count
    body = await request.json()
    count += 1
    click = str(body.get("click") or "")
    if "/signals/" in click:
        arrived.setdefault(click.rsplit("/", 1)[1], time.time())
    return web.json_response({"id": "x", "event": "message"})

async def stats(request):
    signal = request.query.get("signal", "")
    return web.json_response({"count": count, "arrived": arrived.get(signal)})

app = web.Application()
app.router.add_post("/", publish)
app.router.add_get("/stats", stats)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, backlog=1024)
"""


class Receiver:
    """An ntfy-compatible sink in its own process (as a real ntfy server is): POST / with a
    JSON body; records how many messages arrived and when each signal's first one did (by
    its click URL, wall clock), read back through GET /stats."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._process = subprocess.Popen([sys.executable, "-c", RECEIVER, str(self.port)])
        self._client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.stats()
                return
            except OSError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise
                self._client.close()
                time.sleep(0.05)

    def stats(self, signal_id: int | None = None) -> dict[str, Any]:
        self._client.request("GET", f"/stats?signal={signal_id or ''}")
        answer: dict[str, Any] = json.loads(self._client.getresponse().read())
        return answer

    @property
    def count(self) -> int:
        return int(self.stats()["count"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_count(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count < n:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def wait_signal(self, signal_id: int, timeout: float) -> float | None:
        """The wall-clock time the signal's message arrived (None: not within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while (arrived := self.stats(signal_id)["arrived"]) is None:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.005)
        return float(arrived)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.close()
        self._process.terminate()
        self._process.wait(10)


def bench_settings(url: str, **extra: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        secret_key=SECRET,
        public_url="https://cryptolens.example",
        notify_allow_private_targets=True,  # the receiver listens on 127.0.0.1
        **extra,
    )


def seed_subscribers(engine: Engine, settings: Settings, receiver: Receiver, n: int) -> None:
    """``n`` verified Premium users, each with an ntfy channel (own topic) on the receiver."""
    now = utcnow()
    box = target_box(settings)
    with engine.begin() as connection:
        first = connection.execute(select(User.id).order_by(User.id.desc())).scalar() or 0
        ids = range(first + 1, first + n + 1)
        connection.execute(
            insert(User),
            [
                {
                    "id": i,
                    "email": f"bench{i}@example.com",
                    "password_hash": "x",
                    "email_verified_at": now,
                    "created_at": now,
                }
                for i in ids
            ],
        )
        connection.execute(
            insert(Subscription),
            [{"user_id": i, "plan": "premium", "started_at": now, "expires_at": None} for i in ids],
        )
        rows = []
        for i in ids:
            target = Target(ChannelKind.NTFY, receiver.url, topic=f"bench-{i}")
            rows.append(
                {
                    "user_id": i,
                    "kind": "ntfy",
                    "enabled": True,
                    "display": redact(target),
                    "target_encrypted": box.seal(target_to_json(target)),
                    "email_mode": "per_signal",
                    "consecutive_failures": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        connection.execute(insert(NotificationChannel), rows)


def inactive_symbol(engine: Engine) -> int:
    """BTC/USDT, inactive so the scheduler's scans leave the worker free."""
    with Session(engine) as session, session.begin():
        symbol = ensure_symbol(session, exchange="binance", symbol="BTC/USDT")
        symbol.active = False
        session.flush()
        return int(symbol.id)


def new_signal(engine: Engine, symbol_id: int, n: int, *, event: bool) -> int:
    """A bullish 3-timeframe signal with one FVG zone, committed with its event (if asked)
    in one transaction, as the scanner commits them."""
    created = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000) + n * 3_600_000
    with engine.begin() as connection:
        signal_id = connection.execute(
            insert(Signal).returning(Signal.id),
            {
                "symbol_id": symbol_id,
                "direction": "bullish",
                "confluence": 3,
                "score": 0.8,
                "timeframes": "1h,4h,1d",
                "entry": 100.0,
                "stop": 95.0,
                "target_1": 105.0,
                "target_2": 110.0,
                "target_3": 115.0,
                "risk_reward": 2.0,
                "status": "pending",
                "created_at": created,
            },
        ).scalar_one()
        pattern_id = connection.execute(
            insert(Pattern).returning(Pattern.id),
            {
                "symbol_id": symbol_id,
                "timeframe": "1h",
                "pattern_type": "fvg",
                "direction": "bullish",
                "zone_low": 95.0,
                "zone_high": 100.0,
                "candle_time": created - 7_200_000,
                "formed_at": created - 3_600_000,
                "expires_at": created + 86_400_000,
                "status": "active",
                "strength": 0.5,
            },
        ).scalar_one()
        connection.execute(
            insert(SignalPattern), {"signal_id": signal_id, "pattern_id": pattern_id}
        )
        if event:
            row = {
                "direction": "bullish",
                "created_at": created,
                "entry": 100.0,
                "stop": 95.0,
                "timeframes": "1h,4h,1d",
            }
            record_events(connection, [signal_created(symbol_id, signal_id, row)])
    return int(signal_id)


def prepared(url: str, receiver: Receiver, subscribers: int) -> tuple[Settings, Engine, int]:
    """A migrated database with the symbol and ``subscribers`` subscribers."""
    settings = bench_settings(url)
    engine = create_engine_for(settings)
    migrate.upgrade(engine)
    symbol_id = inactive_symbol(engine)
    seed_subscribers(engine, settings, receiver, subscribers)
    return settings, engine, symbol_id


def fanout_figures(n: int, repeat: int) -> None:
    with Receiver() as receiver, tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        settings, engine, symbol_id = prepared(url, receiver, n)
        times = []
        for r in range(repeat):
            signal_id = new_signal(engine, symbol_id, r, event=False)
            expected = receiver.count + n
            start = time.perf_counter()
            counts = send_signal_notifications(engine, settings, signal_id=signal_id)
            if not receiver.wait_count(expected, 120):
                sys.exit(f"only {receiver.count - expected + n} of {n} messages arrived")
            took = time.perf_counter() - start
            times.append(took)
            print(f"run {r + 1}: {took:.2f} s, {n / took:,.0f} messages/s; {counts}")
        median = statistics.median(times)
        verdict = "ok" if median <= GOAL_FANOUT_SECONDS else "OVER GOAL"
        print(
            f"fan-out of one signal to {n:,} ntfy subscribers: median {median:.2f} s "
            f"({n / median:,.0f} messages/s; goal <= {GOAL_FANOUT_SECONDS} s: {verdict})"
        )


@contextmanager
def processes(env: dict[str, str]) -> Iterator[None]:
    exe = str(Path(sys.executable).with_name("cryptolens"))
    procs = [
        subprocess.Popen([exe, name], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name in ("worker", "scheduler")
    ]
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(20)


def latency_figures(signals: int, redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    with Receiver() as receiver, tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/latency.db"
        _settings, engine, symbol_id = prepared(url, receiver, 10)
        env = os.environ | {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": SECRET,
            "PUBLIC_URL": "https://cryptolens.example",
            "LOG_LEVEL": "WARNING",
            "NOTIFY_ALLOW_PRIVATE_TARGETS": "true",
        }
        with processes(env):
            time.sleep(8)  # both processes up; the scheduler's first minute jobs done
            latencies = []
            for n in range(signals):
                start = time.time()
                signal_id = new_signal(engine, symbol_id, 1000 + n, event=True)
                arrived = receiver.wait_signal(signal_id, 30)
                if arrived is None:
                    sys.exit(f"signal {signal_id} never arrived")
                latencies.append(arrived - start)
                time.sleep(0.3)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        verdict = "ok" if p50 <= GOAL_P50_SECONDS else "OVER GOAL"
        print(
            f"signal committed -> message at ntfy, scheduler + worker (Redis): "
            f"p50 {p50:.2f} s, p99 {p99:.2f} s, max {latencies[-1]:.2f} s over {signals} "
            f"signals (goal p50 <= {GOAL_P50_SECONDS} s: {verdict})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--signals", type=int, default=20)
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    )
    args = parser.parse_args()
    header("notification fan-out and latency")
    fanout_figures(args.subscribers, args.repeat)
    latency_figures(args.signals, args.redis)


if __name__ == "__main__":
    main()
