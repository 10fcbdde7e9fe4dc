"""Scale-out on the existing engine: N symbols x 8 timeframes on PostgreSQL, each cycle one
RQ scan job per symbol (fetch the newly closed 1m candle from the simulator, store, detect,
lifecycle, signals) through Redis, worked by 1 and then 2 ``cryptolens worker`` processes.

Reports the cycle time (enqueue to last job done, median of --cycles), SQL statements per
symbol (counted in each job) and Redis commands per symbol (``INFO commandstats`` delta over
the cycle: enqueueing, the workers' dequeue/bookkeeping, locks, results). Exit 1 when the
largest worker count misses --goal seconds.

It DROPS AND RECREATES the schema of --database-url and FLUSHES the Redis database given:

    cd bench && python scale.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/db \\
        --redis-url redis://127.0.0.1:6379/4 [--symbols 1000] [--cycles 3] [--workers 1,2] \\
        [--no-fork]

``--no-fork`` runs the workers as ``cryptolens worker --no-fork``: each keeps its engine,
compiled statements and exchange client (markets loaded once) from one job to the next, as a
long-running worker does; one untimed cycle after the workers start warms them up.

With SCALE_PROFILE=/tmp/prof in the environment each job dumps a cProfile file
(/tmp/prof.<horse pid>) of ``scan_symbol_job``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry
from sqlalchemy import Engine, event, select, text

from _common import header, minute_dataset, store_history
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.engine import create_engine_for
from cryptolens.db.models import Symbol
from cryptolens.domain.jobs import job
from cryptolens.market.simulator import SimulatorServer
from cryptolens.market.synthetic import DEFAULT_START_MS

MINUTE = 60_000
DAY = 1_440
TIMEFRAMES = "1m,5m,15m,30m,1h,2h,4h,1d"
HERE = Path(__file__).resolve().parent

_statements = 0


def _count(*_args: Any) -> None:
    global _statements
    _statements += 1


def counted_scan_job(symbol_id: int) -> dict[str, Any]:
    """``scan_symbol_job`` with the SQL statements it ran (in this work horse) in its result."""
    from cryptolens.jobs.tasks import scan_symbol_job

    global _statements
    if not event.contains(Engine, "before_cursor_execute", _count):
        event.listen(Engine, "before_cursor_execute", _count)
    _statements = 0
    started = time.perf_counter()
    if os.environ.get("SCALE_PROFILE"):
        import cProfile

        profile = cProfile.Profile()
        counts = profile.runcall(scan_symbol_job, symbol_id)
        profile.dump_stats(f"{os.environ['SCALE_PROFILE']}.{os.getpid()}")
    else:
        counts = scan_symbol_job(symbol_id)
    seconds = time.perf_counter() - started
    return {"statements": _statements, "job_seconds": seconds, **counts}


def reset_stores(database_url: str, redis: Redis[bytes]) -> None:
    engine = create_engine_for(settings_for(database_url, None, "http://127.0.0.1:1"))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    engine.dispose()
    redis.flushdb()


def settings_for(database_url: str, redis_url: str | None, exchange: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        redis_url=redis_url,
        exchange_api_url=exchange,
        base_timeframe="1m",
        timeframes=TIMEFRAMES,
        log_level="ERROR",
    )


def worker_env(args: argparse.Namespace, exchange: str) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(HERE), env.get("PYTHONPATH", "")]
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in paths if p),
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        EXCHANGE_API_URL=exchange,
        BASE_TIMEFRAME="1m",
        TIMEFRAMES=TIMEFRAMES,
        LOG_LEVEL="ERROR",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def start_workers(
    n: int, env: dict[str, str], redis: Redis[bytes], *, fork: bool = True
) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "cryptolens", "worker"] + ([] if fork else ["--no-fork"])
    procs = [
        subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(n)
    ]
    deadline = time.monotonic() + 60
    while Worker.count(connection=redis) < n:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            stop_workers(procs)
            raise SystemExit("workers did not start (run `cryptolens worker` by hand to see why)")
        time.sleep(0.2)
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def commands_done(redis: Redis[bytes]) -> int:
    stats = redis.info("commandstats")
    return sum(int(v["calls"]) for v in stats.values())


def run_cycle(
    redis: Redis[bytes], sim: SimulatorServer, symbol_ids: list[int]
) -> tuple[float, int, list[Job]]:
    """One cycle: a new 1m candle everywhere, one job per symbol; (seconds, Redis commands,
    jobs)."""
    spec = job("scan")
    queue = Queue(spec.queue.value, connection=redis)
    finished = FinishedJobRegistry(queue=queue)
    failed = FailedJobRegistry(queue=queue)
    sim.clock.advance(MINUTE)
    before = done(redis, finished.key, failed.key)
    commands = commands_done(redis)
    started = time.perf_counter()
    jobs = queue.enqueue_many(
        [
            Queue.prepare_data(
                "scale.counted_scan_job", (sid,), timeout=spec.timeout, result_ttl=3600
            )
            for sid in symbol_ids
        ]
    )
    checks = 0
    while done(redis, finished.key, failed.key) < before + len(symbol_ids):
        checks += 1
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    # Minus the two ZCARDs of each check of ours (the last included) and this INFO call.
    return seconds, commands_done(redis) - commands - 2 * (checks + 1) - 1, jobs


def done(redis: Redis[bytes], *keys: str) -> int:
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.zcard(key)
    return sum(int(n) for n in pipe.execute())


def results(jobs: list[Job], redis: Redis[bytes]) -> tuple[list[int], list[str]]:
    statements, problems, seconds = [], [], []
    for found in Job.fetch_many([j.id for j in jobs], connection=redis):
        if found is None:
            problems.append("a job vanished")
            continue
        value = found.return_value()
        if not isinstance(value, dict):
            problems.append(f"{found.id}: {found.get_status()} {str(found.exc_info)[-200:]}")
            continue
        statements.append(int(value["statements"]))
        seconds.append(float(value["job_seconds"]))
        if "reason" in value or value.get("failed"):
            problems.append(f"{found.args}: {value}")
    if seconds:
        print(
            f"  inside the job function: median {statistics.median(seconds) * 1000:.0f} ms, "
            f"sum {sum(seconds):.1f} s"
        )
    return statements, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--history-days", type=float, default=1.0)
    parser.add_argument("--goal", type=float, default=10.0)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/h10"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--no-fork", action="store_true", help="workers keep state between jobs")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    header(
        f"bench/scale.py — {args.symbols} symbols x 8 timeframes, PostgreSQL, one RQ scan job "
        f"per symbol, {' and '.join(map(str, counts))} workers"
        + (" (--no-fork: kept processes)" if args.no_fork else " (forking)")
    )
    print(f"# load average at start: {os.getloadavg()}")
    history = int(args.history_days * DAY)
    cycles_needed = (args.cycles + 1) * len(counts) + 2
    symbols = [f"S{i:04d}/USDT" for i in range(args.symbols)]
    datasets = {s: minute_dataset(i, history + cycles_needed + 5) for i, s in enumerate(symbols)}
    start = DEFAULT_START_MS + history * MINUTE
    redis: Redis[bytes] = Redis.from_url(args.redis_url)
    reset_stores(args.database_url, redis)
    with SimulatorServer(datasets, speed=0.0, start_at_ms=start) as sim:
        settings = settings_for(args.database_url, args.redis_url, sim.base_url)
        engine = create_engine_for(settings)
        began = time.perf_counter()
        store_history(engine, settings, datasets, start)
        print(
            f"setup: stored {history} 1m candles x {args.symbols} symbols "
            f"({time.perf_counter() - began:.1f} s)"
        )
        with engine.connect() as connection:
            ids = list(connection.scalars(select(Symbol.id).order_by(Symbol.id)))
        engine.dispose()
        env = worker_env(args, sim.base_url)
        rows = []
        for index, n in enumerate(counts):
            procs = start_workers(n, env, redis, fork=not args.no_fork)
            try:
                if index == 0:
                    # The first scan of the stored history: set-up, untimed in the table.
                    seconds, _, jobs = run_cycle(redis, sim, ids)
                    _, problems = results(jobs, redis)
                    print(
                        f"setup: first scan of the history by {n} worker(s): {seconds:.1f} s"
                        + (f"; problems: {problems[:3]}" if problems else "")
                    )
                elif args.no_fork:
                    # Fresh processes: the first cycle builds what they keep (untimed).
                    seconds, _, _ = run_cycle(redis, sim, ids)
                    print(f"warm-up cycle of {n} new worker(s): {seconds:.1f} s")
                # A forking worker needs no warm-up: each job runs in a fresh fork anyway.
                times, calls, per_job = [], [], []
                for _ in range(args.cycles):
                    seconds, commands, jobs = run_cycle(redis, sim, ids)
                    statements, problems = results(jobs, redis)
                    if problems:
                        print(f"  problems: {len(problems)}, e.g. {problems[:3]}")
                    times.append(seconds)
                    calls.append(commands / len(ids))
                    per_job.append(statistics.median(statements) if statements else 0)
                    print(
                        f"  {n} worker(s): cycle {seconds:.2f} s, {commands} Redis commands, "
                        f"load {os.getloadavg()[0]:.2f}"
                    )
            finally:
                stop_workers(procs)
            rows.append(
                (
                    n,
                    statistics.median(times),
                    times,
                    statistics.median(per_job),
                    statistics.median(calls),
                )
            )
    print()
    print(
        "| workers | cycle (median) | cycles | SQL statements / symbol | Redis commands / symbol |"
    )
    print("| --- | --- | --- | --- | --- |")
    for n, median, times, statements_, calls_ in rows:
        print(
            f"| {n} | {median:.2f} s | {', '.join(f'{t:.2f}' for t in times)} | "
            f"{statements_:.0f} | {calls_:.1f} |"
        )
    load = os.getloadavg()
    print(f"# load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    most = max(rows, key=lambda row: row[0])
    met = most[1] <= args.goal
    print(
        f"goal: {most[0]} workers <= {args.goal:.0f} s: {'met' if met else 'MISSED'} "
        f"({most[1]:.2f} s)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
