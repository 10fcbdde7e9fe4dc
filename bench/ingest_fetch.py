"""One exchange fetch cycle for N symbols against the local exchange simulator (no database):
each symbol fetches its newly closed 1m candles through the real CCXT client.

    python bench/ingest_fetch.py [--symbols 100] [--new 5] [--runs 5] [--concurrency 8]
                                 [--ccxt-rate-limit]

Between runs the frozen market clock moves ``--new`` minutes, so every run fetches exactly the
candles that closed since the previous one. "warm" reuses one client (markets cached, as a
long-running ingester does); "cold" builds a client per cycle (exchangeInfo + time + klines).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from _common import header
from cryptolens.market.exchange import ExchangeClient, FetchRequest, FetchResult
from cryptolens.market.simulator import Dataset, SimulatorServer
from cryptolens.market.synthetic import DEFAULT_START_MS, synthetic_candles

MINUTE = 60_000


def client(sim: SimulatorServer, args: argparse.Namespace) -> ExchangeClient:
    return ExchangeClient(
        "binance",
        api_url=sim.base_url,
        max_concurrency=args.concurrency,
        enable_rate_limit=args.ccxt_rate_limit,
    )


async def cycle(c: ExchangeClient, symbols: list[str], new: int, now_ms: int) -> int:
    since = now_ms - now_ms % MINUTE - new * MINUTE
    requests = [FetchRequest(symbol, "1m", since) for symbol in symbols]
    outcomes = await c.fetch_many(requests)
    fetched = 0
    for outcome in outcomes.values():
        if not isinstance(outcome, FetchResult) or len(outcome.candles) != new:
            raise SystemExit(f"unexpected outcome: {outcome!r}")
        fetched += len(outcome.candles)
    return fetched


def timed_runs(
    sim: SimulatorServer, symbols: list[str], args: argparse.Namespace, warm: bool
) -> list[float]:
    async def all_runs() -> list[float]:
        times: list[float] = []
        shared = client(sim, args) if warm else None
        try:
            if shared is not None:
                await shared.load_markets()  # a warm client has its markets already
            for _ in range(args.runs):
                sim.clock.advance(args.new * MINUTE)
                started = time.perf_counter()
                if shared is not None:
                    await cycle(shared, symbols, args.new, sim.now_ms())
                else:
                    async with client(sim, args) as fresh:
                        await cycle(fresh, symbols, args.new, sim.now_ms())
                times.append(time.perf_counter() - started)
        finally:
            if shared is not None:
                await shared.close()
        return times

    return asyncio.run(all_runs())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--new", type=int, default=5, help="newly closed 1m candles per cycle")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--ccxt-rate-limit", action="store_true", help="keep CCXT's throttle")
    args = parser.parse_args()

    history = 2 * 24 * 60
    raw = synthetic_candles(history, seed=1, start_ms=DEFAULT_START_MS)
    data = Dataset.from_synthetic(raw, step_ms=MINUTE)
    symbols = [f"S{i:03d}/USDT" for i in range(args.symbols)]
    start = DEFAULT_START_MS + (history // 2) * MINUTE
    limiter = "on" if args.ccxt_rate_limit else "off"
    header(
        f"exchange fetch cycle: {args.symbols} symbols x {args.new} new 1m candles, "
        f"concurrency {args.concurrency}, CCXT rate limiter {limiter}"
    )
    for warm in (True, False):
        with SimulatorServer(dict.fromkeys(symbols, data), start_at_ms=start, speed=0) as sim:
            times = timed_runs(sim, symbols, args, warm)
            stats = sim.stats()
        label = "warm client" if warm else "cold client"
        median = statistics.median(times)
        print(
            f"{label}: median {median * 1000:.0f} ms per cycle "
            f"({args.symbols / median:.0f} symbols/s; runs: "
            f"{', '.join(f'{t * 1000:.0f}' for t in times)} ms; "
            f"{stats.requests} requests, max {stats.max_in_flight} in flight)"
        )


if __name__ == "__main__":
    main()
