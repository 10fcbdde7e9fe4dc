"""Prometheus metrics: the request middleware's cost, and a /metrics scrape with 100 symbols.

    cd bench && python metrics.py [--symbols 100] [--candles 1440] [--patterns 20000]
                                  [--users 2000] [--calls 20000] [--scrapes 30] [--repeat 5]
                                  [--web-processes 4] [--rq-workers 2] [--database-url URL]

1. Middleware: ``web.metrics.observe`` (one counter and one histogram per request) called
   ``--calls`` times inside a request to a real route, in one process (plain values) and in
   multiprocess mode (memory-mapped files); median per call of ``--repeat`` runs. Also the
   difference between whole test-client requests with and without it (noisier: a request
   costs some hundred microseconds by itself).
2. Scrape: ``GET /metrics`` in-process on a seeded database (SQLite by default): ``--symbols``
   active symbols with ``--candles`` 1m candles each and the market clock, ``--patterns`` zones
   (a third closed), ``--users`` users (a quarter subscribed), and a multiprocess directory
   holding what 4 gunicorn workers and 2 RQ workers wrote: every route x 3 statuses, 12 jobs,
   cache and exchange series (``--web-processes``, ``--rq-workers`` to change). Median of
   ``--scrapes`` scrapes, ``--repeat`` times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from flask import Flask, g
from sqlalchemy import insert
from sqlalchemy.orm import Session

from _common import header
from cryptolens import create_app
from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.accounts import Subscription, User
from cryptolens.db.candles import upsert_candles
from cryptolens.db.engine import create_engine_for
from cryptolens.db.models import Pattern
from cryptolens.db.symbols import ensure_symbol
from cryptolens.extensions import db
from cryptolens.infra import metrics_files
from cryptolens.market.synthetic import synthetic_candles
from cryptolens.runtime import app_settings
from cryptolens.services.market.clock import record_market_now
from cryptolens.services.ops.metrics_gauges import read_store
from cryptolens.web.metrics import observe

GOAL_MIDDLEWARE_MS = 0.2
GOAL_SCRAPE_MS = 50.0
TOKEN = "bench-metrics-token-0123456789"
SECRET = "bench-secret-key-long-enough-for-production-0123456789"
ROUTE = "/api/health/live"
STATUSES = ("active", "touched", "filled", "invalidated", "expired")


def settings_for(url: str, instance: Path, directory: Path | None) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment="testing",
        secret_key=SECRET,
        database_url=url,
        instance_dir=instance,
        log_level="WARNING",
        metrics_token=TOKEN,
        prometheus_multiproc_dir=directory,
        base_timeframe="1m",
        timeframes=("1m", "5m", "15m", "1h", "4h", "1d"),
    )


def seed(url: str, *, symbols: int, candles: int, patterns: int, users: int) -> None:
    engine = create_engine_for(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    migrate.upgrade(engine)
    rng = np.random.default_rng(42)
    latest = 0
    with Session(engine) as session:
        ids = [
            ensure_symbol(session, exchange="binance", symbol=f"C{n:03d}/USDT").id
            for n in range(symbols)
        ]
        session.commit()
    per_symbol = patterns // symbols
    for n, symbol_id in enumerate(ids):
        # A few symbols lag behind: the lag gauge has something to say.
        history = synthetic_candles(candles - (n % 7), seed=n, step_ms=60_000)
        latest = max(latest, int(history.open_time[-1]) + 60_000)
        with engine.begin() as connection:
            upsert_candles(connection, symbol_id=symbol_id, timeframe="1m", candles=history)
            connection.execute(
                insert(Pattern),
                [
                    {
                        "symbol_id": symbol_id,
                        "timeframe": ("5m", "15m", "1h", "4h")[k % 4],
                        "pattern_type": ("fvg", "order_block", "sweep")[k % 3],
                        "direction": ("bullish", "bearish")[k % 2],
                        "zone_low": 100.0,
                        "zone_high": 101.0,
                        "candle_time": int(history.open_time[0]) + k * 60_000,
                        "formed_at": int(history.open_time[0]) + (k + 3) * 60_000,
                        "strength": float(rng.random()),
                        "status": STATUSES[int(rng.integers(0, 5))] if k % 3 == 0 else "active",
                        "fill_fraction": 0.0,
                        "expires_at": latest + 86_400_000,
                    }
                    for k in range(per_symbol)
                ],
            )
    now = datetime.now(UTC)
    with Session(engine) as session:
        people = [User(email=f"u{n}@bench.test", password_hash="x") for n in range(users)]
        for n, person in enumerate(people):
            person.active = n % 50 != 0
        session.add_all(people)
        session.flush()
        session.add_all(
            Subscription(
                user_id=person.id,
                plan=("pro", "premium")[n % 2],
                expires_at=now + timedelta(days=30 - n % 60),
            )
            for n, person in enumerate(people[: users // 4])
        )
        record_market_now(session, exchange="binance", now_ms=latest + 30_000)
        session.commit()
    engine.dispose()


#: One process writing the series a busy install accumulates (run as a subprocess so each
#: has its own pid and files, as gunicorn and RQ workers do).
WRITER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from cryptolens.infra import metrics, metrics_files
    directory, role, routes = Path(sys.argv[1]), sys.argv[2], sys.argv[3].split("|")
    metrics.use_directory(directory, role if role == "web" else metrics_files.horse_role(1))
    for route in routes if role == "web" else ():  # RQ workers answer no requests
        for status in ("200", "302", "404"):
            metrics.HTTP_REQUESTS.labels("GET", route, status).inc(5)
        metrics.HTTP_DURATION.labels("GET", route).observe(0.02)
    for job in range(12):
        metrics.observe_job(f"job{job}", "succeeded", 0.5)
        metrics.observe_job(f"job{job}", "failed", 0.5)
    for cache in ("pattern_matrix_html", "signals_html", "patterns_html"):
        metrics.count_cache(cache, hit=True)
        metrics.count_cache(cache, hit=False)
    metrics.count_signals("binance", 3)
    metrics.count_notifications({"ntfy": 2, "email": 1, "webhook": 1})
    for error in ("RequestTimeout", "DDoSProtection", "ExchangeNotAvailable"):
        metrics.count_exchange_error("binance", "fetch_ohlcv", TimeoutError())
    """
)


def fill_directory(directory: Path, routes: list[str], *, web: int, rq: int) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for role in ["web"] * web + ["rq"] * rq:
        subprocess.run(
            [sys.executable, "-c", WRITER, str(directory), role, "|".join(routes)],
            env=env,
            check=True,
        )
    return len(list(directory.glob("*.db")))


def time_observe(app: Flask, calls: int, repeat: int) -> tuple[float, list[float]]:
    """Median microseconds per ``observe`` call, over ``repeat`` runs of ``calls`` calls."""
    runs = []
    with app.test_request_context(ROUTE):
        g.started = time.perf_counter()
        response = app.response_class("ok")
        for _ in range(repeat):
            started = time.perf_counter()
            for _ in range(calls):
                observe(response)
            runs.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(runs), runs


def time_requests(app: Flask, requests: int, repeat: int) -> float:
    """Median difference in microseconds per test-client request with and without
    ``observe``: short blocks alternate (with, without, with, ...) so drift in the machine's
    load falls on both sides."""
    client = app.test_client()
    hooks = app.after_request_funcs[None]
    block = max(1, requests // 10)
    for _ in range(block):
        client.get(ROUTE)  # warm
    deltas = []
    for _ in range(repeat * 10):
        per: dict[bool, float] = {}
        for on in (True, False):
            if not on:
                hooks.remove(observe)
            started = time.perf_counter()
            for _ in range(block):
                client.get(ROUTE)
            per[on] = (time.perf_counter() - started) / block * 1e6
            if not on:
                hooks.insert(0, observe)
        deltas.append(per[True] - per[False])
    return statistics.median(deltas)


def time_scrapes(app: Flask, scrapes: int, repeat: int) -> tuple[float, list[float], int]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    first = client.get("/metrics", headers=headers)
    assert first.status_code == 200, first.status_code
    size = len(first.get_data())
    medians = []
    for _ in range(repeat):
        times = []
        for _ in range(scrapes):
            started = time.perf_counter()
            answer = client.get("/metrics", headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200
        medians.append(statistics.median(times))
    return statistics.median(medians), medians, size


def print_parts(app: Flask, directory: Path, scrapes: int) -> None:
    """Median milliseconds of the scrape's parts: the database's gauges, summing the files."""
    settings = app_settings(app)
    with app.app_context():
        engine = db.engine
        parts = {
            "database gauges": lambda: read_store(
                engine, exchange="binance", base_timeframe=settings.base_timeframe, now=utcnow()
            ),
            "summing the files": lambda: metrics_files.collect(directory),
        }
        found = {}
        for name, part in parts.items():
            times = []
            for _ in range(scrapes):
                started = time.perf_counter()
                part()
                times.append((time.perf_counter() - started) * 1000)
            found[name] = statistics.median(times)
    print("  of which: " + ", ".join(f"{k} {v:.1f} ms" for k, v in found.items()))


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--candles", type=int, default=1440)
    parser.add_argument("--patterns", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--scrapes", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--web-processes", type=int, default=4)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    header("Prometheus metrics: middleware cost and /metrics scrape")
    print(f"# load average at start: {load_average()}")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.sqlite'}"
        started = time.perf_counter()
        seed(
            url,
            symbols=args.symbols,
            candles=args.candles,
            patterns=args.patterns,
            users=args.users,
        )
        print(f"# seeded {url.split(':', 1)[0]} in {time.perf_counter() - started:.1f} s")

        app = create_app(settings_for(url, work / "instance", None))
        single, runs = time_observe(app, args.calls, args.repeat)
        print(f"middleware, one process: {single:.2f} us/request (runs {_us(runs)})")
        delta = time_requests(app, args.requests, args.repeat)
        print(f"  whole requests with minus without: {delta:.1f} us/request")

        directory = work / "prometheus"
        routes = sorted({rule.rule for rule in app.url_map.iter_rules()})
        files = fill_directory(directory, routes, web=args.web_processes, rq=args.rq_workers)
        multi_app = create_app(settings_for(url, work / "instance", directory))
        multi, runs = time_observe(multi_app, args.calls, args.repeat)
        print(f"middleware, multiprocess files: {multi:.2f} us/request (runs {_us(runs)})")
        delta = time_requests(multi_app, args.requests, args.repeat)
        print(f"  whole requests with minus without: {delta:.1f} us/request")
        worst = max(single, multi) / 1000
        verdict = "meets" if worst <= GOAL_MIDDLEWARE_MS else "misses"
        print(f"  goal <= {GOAL_MIDDLEWARE_MS} ms: {verdict} ({worst:.4f} ms)")

        print_parts(multi_app, directory, args.scrapes)
        scrape, medians, size = time_scrapes(multi_app, args.scrapes, args.repeat)
        verdict = "meets" if scrape <= GOAL_SCRAPE_MS else "misses"
        print(
            f"scrape, {args.symbols} symbols, {len(routes)} routes, {files} metric files: "
            f"{scrape:.1f} ms median ({', '.join(f'{m:.1f}' for m in medians)}); "
            f"{size / 1024:.0f} KiB; goal <= {GOAL_SCRAPE_MS:.0f} ms: {verdict}"
        )
        print(f"# load average at end: {load_average()}")


def _us(runs: list[float]) -> str:
    return ", ".join(f"{r:.2f}" for r in runs)


if __name__ == "__main__":
    main()
