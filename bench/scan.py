"""The scanner's speed: one incremental cycle for N symbols x 8 timeframes (one new 1m
candle each), and the catch-up after days of downtime. Simulator as exchange, SQLite.

    python bench/scan.py [--symbols 100] [--cycles 5] [--catch-up-symbols 10] [--days 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

from _common import header, minute_dataset, store_history
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.engine import create_engine_for
from cryptolens.db.models import Symbol
from cryptolens.market.simulator import Dataset, SimulatorServer
from cryptolens.market.synthetic import DEFAULT_START_MS
from cryptolens.services.market.ingest import exchange_client
from cryptolens.services.scanning.scan import ScanReport, scan_all_stored, scan_cycle_async

MINUTE = 60_000
DAY = 1_440
TIMEFRAMES = "1m,5m,15m,30m,1h,2h,4h,1d"


def prepare(folder: Path, sim: SimulatorServer, datasets: dict[str, Dataset], start: int) -> Path:
    """A database with every symbol's history before ``start`` stored and scanned."""
    path = folder / "base.sqlite"
    settings = settings_for(path, sim)
    engine = create_engine_for(settings)
    migrate.upgrade(engine)
    store_history(engine, settings, datasets, start)
    started = time.perf_counter()
    scan_all_stored(engine, settings)
    elapsed = time.perf_counter() - started
    print(f"setup: first scan of {len(datasets)} symbols' history: {elapsed:.1f} s")
    engine.dispose()
    return path


def settings_for(path: Path, sim: SimulatorServer) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{path}",
        exchange_api_url=sim.base_url,
        exchange_concurrency=16,
        base_timeframe="1m",
        timeframes=TIMEFRAMES,
        log_level="ERROR",
    )


def run_cycles(
    settings: Settings, sim: SimulatorServer, cycles: int, step_ms: int
) -> list[tuple[float, ScanReport]]:
    engine = create_engine_for(settings)

    async def go() -> list[tuple[float, ScanReport]]:
        out = []
        async with exchange_client(settings) as client:
            await client.load_markets()
            for _ in range(cycles):
                sim.clock.advance(step_ms)
                started = time.perf_counter()
                report = await scan_cycle_async(engine, settings, client=client)
                out.append((time.perf_counter() - started, report))
        return out

    try:
        return asyncio.run(go())
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--catch-up-symbols", type=int, default=10)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--history-days", type=int, default=3)
    args = parser.parse_args()
    header(f"bench/scan.py — scan cycle, {args.symbols} symbols x 8 timeframes, simulator, SQLite")
    history = args.history_days * DAY
    symbols = [f"S{i:03d}/USDT" for i in range(args.symbols)]
    datasets = {s: minute_dataset(i, history + args.days * DAY + 60) for i, s in enumerate(symbols)}
    start = DEFAULT_START_MS + history * MINUTE
    with (
        tempfile.TemporaryDirectory() as tmp,
        SimulatorServer(datasets, speed=0.0, start_at_ms=start) as sim,
    ):
        folder = Path(tmp)
        base = prepare(folder, sim, datasets, start)

        # 1. Incremental: one new 1m candle per symbol per cycle.
        work = folder / "incremental.sqlite"
        shutil.copy(base, work)
        results = run_cycles(settings_for(work, sim), sim, args.cycles, MINUTE)
        times = [t for t, _ in results]
        print(f"incremental cycles: {', '.join(f'{t:.3f}' for t in times)} s")
        phases = {
            name: statistics.median(r.phases.get(name, 0.0) for _, r in results)
            for name in sorted({k for _, r in results for k in r.phases})
        }
        print(
            f"median incremental cycle: {statistics.median(times):.3f} s for "
            f"{args.symbols} symbols (goal <= 2 s); phases (median s): "
            + ", ".join(f"{k} {v:.3f}" for k, v in phases.items())
        )
        print(f"counts of the last cycle: {results[-1][1].counts()}")

        # 2. Catch-up: N symbols were down for D days; one cycle fetches and scans it all.
        catch_up = []
        sim.clock.set(now_ms=start)
        for repeat in range(3):
            path = folder / f"catchup{repeat}.sqlite"
            shutil.copy(base, path)
            settings = settings_for(path, sim).model_copy(
                update={"symbols": tuple(symbols[: args.catch_up_symbols])}
            )
            engine = create_engine_for(settings)
            with engine.begin() as connection:
                connection.execute(
                    update(Symbol)
                    .where(Symbol.symbol.notin_(settings.symbols))
                    .values(active=False)
                )
            engine.dispose()
            sim.clock.set(now_ms=start)
            [(seconds, report)] = run_cycles(settings, sim, 1, args.days * DAY * MINUTE)
            catch_up.append(seconds)
            print(
                f"catch-up run {repeat + 1}: {seconds:.2f} s; phases: "
                + ", ".join(f"{k} {v:.2f}" for k, v in sorted(report.phases.items()))
                + f"; counts {report.counts()}"
            )
        print(
            f"median catch-up after {args.days} days down, {args.catch_up_symbols} symbols: "
            f"{statistics.median(catch_up):.2f} s"
        )


if __name__ == "__main__":
    main()
