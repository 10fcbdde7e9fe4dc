"""API v1 latency: ``GET /api/v1/patterns?limit=50`` with API keys, 8 keep-alive clients,
gunicorn as in production (gunicorn.conf.py), on bench/web.py's seeded SQLite market; then the
in-process cost of verifying a key and checking its rate limit.

    python bench/api.py [--candles 1000000] [--patterns 100000] [--requests 400] [--repeat 3]
                        [--client wrk|python] [--seconds 5]

The load comes from ``wrk`` (Debian's package ``wrk``, a C load generator: 2 threads, 8
connections, ``--seconds`` a run) when it is installed, else from 8 Python threads with
``http.client`` (``--client python``). Both keep connections alive; the Python client's own CPU
competes with the server for the machine's cores and adds to every latency it measures, so wrk's
figures are the server's. The clients rotate over ``--keys`` keys of one Premium user so the
200/min per-key budget never answers 429 (every request still pays the verification and the
limit check); a non-200 answer fails the run.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path

from limits import parse
from sqlalchemy import select
from sqlalchemy.orm import Session

from _common import header
from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db.engine import create_engine_for
from cryptolens.db.models import User
from cryptolens.extensions import limiter
from cryptolens.services.accounts.accounts import load_account
from cryptolens.services.accounts.api_keys import KeyOptions, create_key, key_pepper
from cryptolens.web.api_key_auth import resolve_api_key
from web import CONCURRENCY, EMAIL, free_port, p99, seed, start_gunicorn

#: start_gunicorn's SECRET_KEY: keys are hashed with a pepper derived from it.
BENCH_SECRET = "bench-secret-key-long-enough-for-production-0123456789"
GOAL_MEDIAN_MS = 15.0
GOAL_KEY_CHECK_MS = 1.0
PATH = "/api/v1/patterns?limit=50"


def make_keys(url: str, count: int, secret: str) -> list[str]:
    engine = create_engine_for(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    now = datetime.now(UTC)
    keys = []
    with Session(engine) as session:
        user_id = session.scalars(select(User.id).where(User.email == EMAIL)).one()
        owner = load_account(session, user_id=user_id, now=now)
        assert owner is not None
        options = KeyOptions(name="bench", scopes=["read:patterns"])
        for _ in range(count):
            _, plaintext = create_key(
                session, owner=owner, options=options, pepper=key_pepper(secret), now=now
            )
            keys.append(plaintext)
        session.commit()
    engine.dispose()
    return keys


def load(port: int, total: int, keys: list[str], concurrency: int = CONCURRENCY) -> list[float]:
    """``total`` GETs of PATH over ``concurrency`` keep-alive connections; latencies in ms."""
    latencies: list[float] = []
    lock = threading.Lock()
    rotation = cycle(keys)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(total // concurrency):
            with lock:
                key = next(rotation)
            started = time.perf_counter()
            connection.request("GET", PATH, headers={"X-API-Key": key})
            answer = connection.getresponse()
            answer.read()
            mine.append((time.perf_counter() - started) * 1000)
            if answer.status != 200:
                raise SystemExit(f"{PATH}: HTTP {answer.status}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


WRK_SCRIPT = """
local keys = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", nil, {["X-API-Key"] = keys[(n %% #keys) + 1]})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%f %%f %%d %%d %%d\\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk_run(port: int, keys: list[str], folder: Path, seconds: int) -> tuple[float, float, int]:
    """One wrk run of ``seconds`` over 8 connections: median ms, p99 ms, requests."""
    script = folder / "keys.lua"
    script.write_text(WRK_SCRIPT % ", ".join(f'"{k}"' for k in keys))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONCURRENCY}", f"-d{seconds}s", "-s", str(script),
         f"http://127.0.0.1:{port}{PATH}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    median, tail, requests, bad_status, failed = line.split()[1:]
    if int(bad_status) or int(failed):
        raise SystemExit(f"{PATH}: {bad_status} non-2xx answers, {failed} socket errors")
    return float(median), float(tail), int(requests)


def key_check_cost(url: str, key: str, folder: Path, rounds: int = 2000) -> float:
    """Median ms of one key verification (one indexed query, usage counted) plus one
    per-key limit hit, in-process (memory limit storage, as without REDIS_URL)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment="testing",
        secret_key=BENCH_SECRET,
        database_url=url,
        instance_dir=folder / "instance-inproc",
        redis_url=None,
        log_level="ERROR",
    )
    app = create_app(settings)
    budget = parse("1000000/minute")
    timings = []
    with app.test_request_context(PATH, headers={"X-API-Key": key}):
        for _ in range(rounds):
            started = time.perf_counter()
            principal = resolve_api_key(key)
            assert principal is not None
            limiter.limiter.hit(budget, "api-v1", f"key:{principal.api_key_id}")
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--patterns", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keys", type=int, default=None, help="default: 40, 400 with wrk")
    parser.add_argument(
        "--client", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python"
    )
    parser.add_argument("--seconds", type=int, default=5, help="length of a wrk run")
    args = parser.parse_args()
    if args.keys is None:
        args.keys = 400 if args.client == "wrk" else 40
    header("bench/api.py — API v1 patterns with API keys (gunicorn, SQLite)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'bench.sqlite'}"
        seed(url, args.candles, args.patterns)
        keys = make_keys(url, args.keys, BENCH_SECRET)
        print(f"seeded {args.candles:,} candles, {args.patterns:,} zones; {len(keys)} keys")
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        port = free_port()
        server = start_gunicorn(url, port, folder)
        try:
            load(port, CONCURRENCY * 5, keys)  # warm up
            if args.client == "wrk":
                results = [wrk_run(port, keys, folder, args.seconds) for _ in range(args.repeat)]
                median = statistics.median(r[0] for r in results)
                tail = statistics.median(r[1] for r in results)
                rate = statistics.median(r[2] for r in results) / args.seconds
                print(f"wrk: {args.repeat} runs of {args.seconds} s, {rate:,.0f} requests/s")
            else:
                runs = [load(port, args.requests, keys) for _ in range(args.repeat)]
                median = statistics.median(statistics.median(run) for run in runs)
                tail = statistics.median(p99(run) for run in runs)
                print(f"python client: {args.repeat} runs of {args.requests} requests")
            alone = statistics.median(load(port, 50, keys, concurrency=1))
            verdict = "meets" if median <= GOAL_MEDIAN_MS else "MISSES"
            print(
                f"{PATH}: median {median:.2f} ms   p99 {tail:.2f} ms   ({CONCURRENCY} clients)"
                f"   one client {alone:.2f} ms"
            )
            print(f"goal: median <= {GOAL_MEDIAN_MS} ms: {verdict}")
        finally:
            server.terminate()
            server.wait(timeout=30)
        cost = key_check_cost(url, keys[0], folder)
        verdict = "meets" if cost <= GOAL_KEY_CHECK_MS else "MISSES"
        print(f"key verification + limit check, in-process: median {cost:.3f} ms")
        print(f"goal: <= {GOAL_KEY_CHECK_MS} ms: {verdict}")


if __name__ == "__main__":
    main()
