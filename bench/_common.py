"""Shared helpers for benchmark scripts: machine description and medians."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def header(title: str) -> None:
    print(f"# {title}")
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")


def median_seconds(
    run: Callable[[], object], *, repeat: int, setup: Callable[[], object] | None = None
) -> tuple[float, list[float]]:
    """Median wall time of ``repeat`` runs (``setup`` runs untimed before each)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def print_profile(run: Callable[[], object], *, lines: int = 30) -> None:
    """Run ``run`` once under cProfile and print where the time goes, by cumulative time."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.runcall(run)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(lines)


def minute_dataset(seed: int, n: int) -> Any:
    """Seeded synthetic 1m candles on Binance's 8-decimal grid, as a simulator dataset."""
    import numpy as np

    from cryptolens.market.simulator import Dataset
    from cryptolens.market.synthetic import synthetic_candles

    raw = synthetic_candles(n, seed=seed)
    cols = [np.round(getattr(raw, c), 8) for c in ("open", "high", "low", "close", "volume")]
    return Dataset.from_arrays(raw.open_time, *cols, step_ms=60_000)


def store_history(engine: Any, settings: Any, datasets: dict[str, Any], start: int) -> None:
    """Watch every symbol and store its candles opening before ``start``, as ingestion would."""
    from sqlalchemy.orm import Session

    from cryptolens.db.symbols import ensure_symbol
    from cryptolens.market.simulator import Dataset
    from cryptolens.services.market.candle_store import store_candles

    with Session(engine) as session, session.begin():
        ids = {s: ensure_symbol(session, exchange="binance", symbol=s).id for s in datasets}
    for symbol, data in datasets.items():
        keep = data.open_time < start
        columns = ("open_time", "open", "high", "low", "close", "volume")
        history = Dataset.from_arrays(
            *(getattr(data, c)[keep] for c in columns), step_ms=data.step_ms
        )
        with engine.begin() as connection:
            store_candles(
                connection,
                symbol_id=ids[symbol],
                base_timeframe=settings.base_timeframe,
                higher_timeframes=settings.higher_timeframes,
                candles=history,
                now_ms=start,
            )
