"""One ingestion cycle for N symbols against the local exchange simulator, into SQLite:
fetch newly closed 1m candles concurrently through CCXT, store them, rebuild aggregates.

    python bench/ingest.py [--symbols 100] [--cycles 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import header, minute_dataset, store_history
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.engine import create_engine_for
from cryptolens.market.simulator import SimulatorServer
from cryptolens.market.synthetic import DEFAULT_START_MS
from cryptolens.services.market.ingest import exchange_client, ingest_cycle

MINUTE = 60_000
DAY = 1_440


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args()
    header(f"bench/ingest.py — one ingestion cycle, {args.symbols} symbols, simulator, SQLite")
    symbols = [f"S{i:03d}/USDT" for i in range(args.symbols)]
    datasets = {s: minute_dataset(i, 2 * DAY) for i, s in enumerate(symbols)}
    start = DEFAULT_START_MS + DAY * MINUTE  # one day of history stored before the first cycle
    with (
        tempfile.TemporaryDirectory() as folder,
        SimulatorServer(datasets, speed=0.0, start_at_ms=start) as sim,
    ):
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite:///{Path(folder) / 'bench.sqlite'}",
            exchange_api_url=sim.base_url,
            exchange_concurrency=16,
            log_level="ERROR",
        )
        engine = create_engine_for(settings)
        migrate.upgrade(engine)
        store_history(engine, settings, datasets, start)

        async def cycles() -> list[tuple[float, dict[str, int]]]:
            results = []
            async with exchange_client(settings) as client:
                await client.load_markets()
                for _ in range(args.cycles):
                    sim.clock.advance(MINUTE)
                    started = time.perf_counter()
                    report = await ingest_cycle(engine, settings, client)
                    results.append((time.perf_counter() - started, report.counts()))
            return results

        results = asyncio.run(cycles())
    times = sorted(t for t, _ in results)
    print(f"cycles: {', '.join(f'{t:.3f}' for t, _ in results)} s")
    print(
        f"median cycle wall time: {times[len(times) // 2]:.3f} s for {args.symbols} symbols "
        f"(counts of the last: {results[-1][1]})"
    )


if __name__ == "__main__":
    main()
