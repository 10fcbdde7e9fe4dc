"""Web latency at volume: a SQLite database with 1,000,000 candles (20 symbols x 4 timeframes)
and 100,000 zones, served by gunicorn (gunicorn.conf.py), hit by 8 keep-alive clients.

    python bench/web.py [--candles 1000000] [--patterns 100000] [--requests 400] [--repeat 3]

Prints median and p99 latency per URL (the median of ``--repeat`` runs of each figure).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from _common import header
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.candles import upsert_candles
from cryptolens.db.engine import create_engine_for
from cryptolens.db.models import Pattern, Signal
from cryptolens.db.symbols import ensure_symbol
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.market.synthetic import DEFAULT_START_MS, synthetic_candles
from cryptolens.services.accounts.accounts import register, verify_email
from cryptolens.services.accounts.passwords import Passwords
from cryptolens.services.accounts.subscriptions import grant_subscription
from cryptolens.services.market.clock import record_market_now

ROOT = Path(__file__).resolve().parents[1]
SYMBOLS = [f"S{n:02d}/USDT" for n in range(20)]
TIMEFRAMES = ("1m", "5m", "15m", "1h")
EXCHANGE = "binance"
START_MS = 1_704_067_200_000
CONCURRENCY = 8
GOAL_PATTERNS_MEDIAN_MS = 15.0
TYPES = ("fvg", "order_block", "liquidity_sweep")
STATUSES = ("active", "touched", "filled", "invalidated", "expired")
EMAIL = "bench-trader@example.com"
PASSWORD = "a bench password that is long enough"


def seed(url: str, n_candles: int, n_patterns: int) -> None:
    engine = create_engine_for(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    migrate.upgrade(engine)
    per_series = n_candles // (len(SYMBOLS) * len(TIMEFRAMES))
    zones_per_series = n_patterns // (len(SYMBOLS) * len(TIMEFRAMES))
    rng = np.random.default_rng(42)
    latest = START_MS
    with Session(engine) as session:
        ids = [ensure_symbol(session, exchange=EXCHANGE, symbol=s).id for s in SYMBOLS]
        session.commit()
    for i, symbol_id in enumerate(ids):
        for j, timeframe in enumerate(TIMEFRAMES):
            step = TIMEFRAME_MS[timeframe]
            candles = synthetic_candles(per_series, seed=i * 10 + j, step_ms=step)
            latest = max(latest, int(candles.open_time[-1]) + step)
            picks = np.sort(rng.choice(per_series - 3, size=zones_per_series, replace=False))
            low = np.asarray(candles.low)[picks]
            height = np.asarray(candles.high)[picks] - low + 1e-6
            rows = [
                {
                    "symbol_id": symbol_id,
                    "timeframe": timeframe,
                    "pattern_type": TYPES[k % 3],
                    "direction": ("bullish", "bearish")[k % 2],
                    "zone_low": float(low[k]),
                    "zone_high": float(low[k] + height[k]),
                    "candle_time": int(candles.open_time[p]),
                    "formed_at": int(candles.open_time[p]) + 3 * step,
                    "strength": float(rng.random()),
                    "status": STATUSES[int(rng.integers(0, 5))]
                    if p < per_series - 200
                    else "active",
                    "fill_fraction": float(rng.random()),
                    "expires_at": int(candles.open_time[p]) + 300 * step,
                }
                for k, p in enumerate(picks.tolist())
            ]
            with engine.begin() as connection:
                upsert_candles(
                    connection, symbol_id=symbol_id, timeframe=timeframe, candles=candles
                )
                connection.execute(insert(Pattern), rows)
                connection.execute(
                    insert(Signal),
                    [
                        {
                            "symbol_id": symbol_id,
                            "direction": ("bullish", "bearish")[k % 2],
                            "confluence": 2,
                            "score": 0.6,
                            "timeframes": f"{timeframe},1h",
                            "entry": 100.0,
                            "stop": 95.0,
                            "target_1": 105.0,
                            "target_2": 110.0,
                            "target_3": 120.0,
                            "risk_reward": 2.0,
                            "status": "closed",
                            "outcome": ("tp1", "stop", "tp2", "unfilled")[k % 4],
                            "r_multiple": (1.0, -1.0, 2.0, None)[k % 4],
                            "created_at": int(candles.open_time[p]) + 3 * step + j,
                        }
                        for k, p in enumerate(picks[:50].tolist())
                    ],
                )
    with Session(engine) as session:
        record_market_now(session, exchange=EXCHANGE, now_ms=latest)
        make_premium_user(session)
        session.commit()
    engine.dispose()


def make_premium_user(session: Session) -> None:
    """The trader the benchmark signs in as: verified, on Premium for a year."""
    now = datetime.now(UTC)
    passwords = Passwords(time_cost=1, memory_kib=1024)  # the bench signs in once
    result = register(session, email=EMAIL, password=PASSWORD, passwords=passwords, now=now)
    assert result.new_user_id is not None
    assert result.verify_token is not None
    verify_email(session, token=result.verify_token, now=now)
    grant_subscription(
        session,
        user_id=result.new_user_id,
        plan="premium",
        started_at=now,
        expires_at=now + timedelta(days=365),
    )


def sign_in(port: int) -> str:
    """Sign in through the real login form (CSRF included); the session cookie to send."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/auth/login")
    answer = connection.getresponse()
    page = answer.read().decode()
    cookie = _session_cookie(answer)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if token is None:
        raise SystemExit("no CSRF token in the login form")
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": EMAIL, "password": PASSWORD}
    )
    connection.request(
        "POST",
        "/auth/login",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    answer = connection.getresponse()
    answer.read()
    if answer.status != 302:
        raise SystemExit(f"sign-in failed: HTTP {answer.status}")
    connection.close()
    return _session_cookie(answer) or cookie


def _session_cookie(answer: http.client.HTTPResponse) -> str:
    cookies = [v.split(";", 1)[0] for k, v in answer.getheaders() if k.lower() == "set-cookie"]
    return "; ".join(c for c in cookies if c.startswith("session="))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(
    url: str, port: int, folder: Path, extra: list[str] | None = None, *, wait: float = 30.0
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRYPTOLENS_ENV": "production",
        "SECRET_KEY": "bench-secret-key-long-enough-for-production-0123456789",
        "PUBLIC_URL": "http://127.0.0.1",
        "DATABASE_URL": url,
        "SYMBOLS": ",".join(SYMBOLS),
        "BASE_TIMEFRAME": "1m",
        "TIMEFRAMES": ",".join(TIMEFRAMES),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            *(extra or []),
            "cryptolens:create_app()",
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/health/live")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not start; see {folder / 'gunicorn.log'}")


def load(
    port: int, path: str, total: int, cookie: str, concurrency: int = CONCURRENCY
) -> list[float]:
    """``total`` GETs of ``path`` over ``concurrency`` keep-alive connections, signed in;
    latencies in ms."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = total // concurrency

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(per_client):
            started = time.perf_counter()
            connection.request("GET", path, headers={"Cookie": cookie})
            answer = connection.getresponse()
            answer.read()
            mine.append((time.perf_counter() - started) * 1000)
            if answer.status != 200:
                raise SystemExit(f"{path}: HTTP {answer.status}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--patterns", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--gunicorn",
        default="",
        help="extra gunicorn arguments over gunicorn.conf.py, e.g. '--workers 8 --threads 1'",
    )
    args = parser.parse_args()
    header("bench/web.py — page and chart latency at volume (gunicorn, SQLite)")
    urls = {
        "floor: health/live": "/api/health/live",
        "dashboard": "/",
        "patterns": "/patterns",
        "patterns filtered": "/patterns?symbol=S07/USDT&timeframe=1h&status=open",
        "patterns page 20": "/patterns?page=20",
        "signals": "/signals",
        "chart candles 1000": "/api/chart/candles?symbol=S07/USDT&timeframe=1m&limit=1000",
        "chart zones": "/api/chart/zones?symbol=S07/USDT&timeframe=1m&limit=500",
        # Issue 19: the page of older candles the chart loads when scrolled left (the middle
        # of the series), and the toast filter every live page reads once.
        "chart older 1000": (
            "/api/chart/candles?symbol=S07/USDT&timeframe=1m&limit=1000"
            f"&end={DEFAULT_START_MS + (args.candles // 160) * 60_000}"
        ),
        "live toasts": "/api/live/toasts",
    }
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'bench.sqlite'}"
        started = time.perf_counter()
        seed(url, args.candles, args.patterns)
        print(
            f"seeded {args.candles:,} candles, {args.patterns:,} zones in "
            f"{time.perf_counter() - started:.1f} s"
        )
        print(
            f"{args.requests} requests x {args.repeat} runs per URL at concurrency "
            f"{CONCURRENCY}; load average before: {os.getloadavg()[0]:.2f}"
        )
        port = free_port()
        server = start_gunicorn(url, port, folder, args.gunicorn.split())
        print(f"gunicorn: gunicorn.conf.py {args.gunicorn}".rstrip())
        try:
            cookie = sign_in(port)
            print(f"signed in as {EMAIL} (Premium)")
            for label, path in urls.items():
                load(port, path, CONCURRENCY * 5, cookie)  # warm up (and fill the matrix cache)
                runs = [load(port, path, args.requests, cookie) for _ in range(args.repeat)]
                median = statistics.median(statistics.median(run) for run in runs)
                tail = statistics.median(p99(run) for run in runs)
                alone = statistics.median(load(port, path, 50, cookie, concurrency=1))
                print(
                    f"{label:<20} median {median:7.2f} ms   p99 {tail:7.2f} ms   "
                    f"one client {alone:6.2f} ms"
                )
                if label == "patterns":
                    verdict = "meets" if median <= GOAL_PATTERNS_MEDIAN_MS else "MISSES"
                    print(
                        f"{'':<20} goal: patterns median <= {GOAL_PATTERNS_MEDIAN_MS} ms: {verdict}"
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
