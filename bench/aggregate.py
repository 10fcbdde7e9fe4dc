"""Benchmark: aggregate 1,000,000 seeded synthetic 1m candles into every higher timeframe.

Run from the repository root (never part of the test run):

    .venv/bin/python bench/aggregate.py            # goal: aggregate_all <= 0.3 s (median)
    .venv/bin/python bench/aggregate.py --n 200000 --runs 5 --no-pin

Times ``aggregate_all`` (median of ``--runs`` after one warm-up), each target on its own with
``aggregate_candles``, and a pandas ``resample`` reference doing the same work, and checks
that the reference and the module agree.  The process is pinned to one CPU by default.
Exits 1 when the median misses the goal.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cryptolens.detect.candles import Candles
from cryptolens.market.aggregate import aggregate_all, aggregate_candles
from cryptolens.market.synthetic import synthetic_candles

TARGETS = ("5m", "15m", "30m", "1h", "2h", "4h", "1d")
PANDAS_RULE = {
    "5m": "5min",
    "15m": "15min",
    "30m": "30min",
    "1h": "1h",
    "2h": "2h",
    "4h": "4h",
    "1d": "1D",
}
GOAL_S = 0.3


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def median_time(work: Callable[[], object], runs: int) -> float:
    work()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def pandas_all(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    out = {}
    for target in TARGETS:
        resampler = frame.resample(PANDAS_RULE[target], origin="epoch", label="left", closed="left")
        out[target] = resampler.agg(
            {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
        )
    return out


def check_agreement(frame: pd.DataFrame, n: int) -> str:
    """Compare the module with the pandas reference on every emitted bucket."""
    ours = aggregate_all(Candles.from_frame(frame), base_timeframe="1m", targets=TARGETS)
    theirs = pandas_all(frame)
    for target in TARGETS:
        result = ours[target]
        ref = theirs[target].loc[pd.to_datetime(result.open_time, unit="ms", utc=True)]
        for name in ("open", "high", "low", "close"):
            if not np.array_equal(getattr(result, name), ref[name].to_numpy()):
                return f"MISMATCH in {target} {name}"
        if not np.allclose(result.volume, ref["volume"].to_numpy(), rtol=1e-12, atol=0.0):
            return f"MISMATCH in {target} volume"
    return f"agree on all {len(TARGETS)} targets ({n:,} candles; volume within rtol 1e-12)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of 1m candles")
    parser.add_argument("--runs", type=int, default=7, help="timed runs after one warm-up")
    parser.add_argument("--pandas-runs", type=int, default=3, help="timed pandas runs")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    args = parser.parse_args()

    pinned = "no"
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        pinned = f"CPU {cpu}"

    candles = synthetic_candles(args.n, seed=args.seed)
    print(f"date      {datetime.now(UTC):%Y-%m-%d %H:%M UTC}")
    print(f"platform  {platform.platform()}; Python {platform.python_version()}")
    print(f"cpu       {cpu_name()} ({os.cpu_count()} logical; pinned: {pinned})")
    print(f"libraries numpy {np.__version__}, pandas {pd.__version__}")
    print(f"data      {args.n:,} synthetic 1m candles, seed {args.seed}")
    print(f"runs      median of {args.runs} after one warm-up (pandas: {args.pandas_runs})")
    print()

    total = median_time(
        lambda: aggregate_all(candles, base_timeframe="1m", targets=TARGETS), args.runs
    )
    print(f"aggregate_all, all 7 targets (hierarchical)   {total * 1e3:8.1f} ms")
    direct_sum = 0.0
    for target in TARGETS:
        elapsed = median_time(
            lambda t=target: aggregate_candles(candles, base_timeframe="1m", target_timeframe=t),
            args.runs,
        )
        direct_sum += elapsed
        print(f"  aggregate_candles {target:>4} (direct from 1m)     {elapsed * 1e3:8.1f} ms")
    print(f"  sum of the seven direct runs                {direct_sum * 1e3:8.1f} ms")

    frame = pd.DataFrame(
        {
            "open": candles.open,
            "high": candles.high,
            "low": candles.low,
            "close": candles.close,
            "volume": candles.volume,
        },
        index=pd.to_datetime(candles.open_time, unit="ms", utc=True),
    )
    reference = median_time(lambda: pandas_all(frame), args.pandas_runs)
    print(f"pandas resample reference, all 7 targets      {reference * 1e3:8.1f} ms")
    print(f"speed-up over pandas                          {reference / total:8.1f} x")
    print(f"check     {check_agreement(frame, args.n)}")
    met = total <= GOAL_S
    verdict = "met" if met else "MISSED"
    print(f"goal      aggregate_all <= {GOAL_S:.1f} s: {verdict} ({total:.3f} s)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
