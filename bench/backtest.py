"""Benchmark: backtest one year of seeded synthetic 1m candles (525,600) for one symbol over the
8 default timeframes, the full pipeline (aggregation, detection, lifecycle, confluence, outcome
tracking, fills with fees and slippage). Goal: median <= 2 s.

    python bench/backtest.py [--repeat 3] [--n 525600] [--profile] [--stages]

Prints the median of ``--repeat`` runs (one untimed warm-up first) and the run's counts;
``--profile`` prints where the time goes instead, ``--stages`` the median time of the stages a
parameter sweep re-runs after detection (find_signals, outcome tracking, fills and trading),
timed without a profiler. Exits 1 when the median misses the goal.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from _common import header, median_seconds
from cryptolens.backtest import engine, replay
from cryptolens.backtest.engine import BacktestResult, run_backtest
from cryptolens.backtest.execution import ExecutionModel
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.market.synthetic import synthetic_candles

GOAL_S = 2.0
YEAR = 525_600
EXECUTION = ExecutionModel(maker_fee_bps=2, taker_fee_bps=5, slippage_value=2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n", type=int, default=YEAR, help="1m candles")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--stages", action="store_true")
    args = parser.parse_args()
    header(f"backtest: {args.n:,} 1m candles, timeframes {', '.join(TIMEFRAME_MS)}")
    candles = synthetic_candles(args.n, seed=args.seed)
    timeframes = tuple(TIMEFRAME_MS)
    last: list[BacktestResult] = []

    def run() -> None:
        last[:] = [
            run_backtest(candles, base_timeframe="1m", timeframes=timeframes, execution=EXECUTION)
        ]

    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(run)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        return 0
    if args.stages:
        return stages(run, args.repeat)
    started = time.perf_counter()
    run()  # warm-up: imports and first-touch allocations
    print(f"warm-up: {time.perf_counter() - started:.2f} s")
    median, times = median_seconds(run, repeat=args.repeat)
    result = last[0]
    replayed = result.replays[""]
    print(
        f"zones {replayed.zones:,}, signals {len(replayed.signals):,}, trades "
        f"{len(result.trades):,} (skipped {result.skipped:,}, ambiguous {result.ambiguous:,}), "
        f"fees {result.fees:,.2f}, final equity {result.final_equity:,.2f}"
    )
    runs = ", ".join(f"{t:.2f}" for t in times)
    verdict = "ok" if median <= GOAL_S else "MISSED"
    print(f"median {median:.2f} s over {args.repeat} runs ({runs})")
    print(f"goal <= {GOAL_S:.0f} s: {verdict}")
    return 0 if median <= GOAL_S else 1


#: Stage name -> (module, function): the calls the pipeline makes through module globals.
STAGES = {
    "find_signals": (replay, "find_signals"),
    "tracking (track_events)": (replay, "track_events"),
    "trade_replays (fills + trading)": (engine, "trade_replays"),
    "  of which signal_paths (fills)": (engine, "signal_paths"),
}


def stages(run: Callable[[], None], repeat: int) -> int:
    """Median seconds per stage over ``repeat`` runs, each stage's calls summed per run."""
    spent: dict[str, list[float]] = defaultdict(list)
    current: dict[str, float] = {}
    originals = {name: getattr(module, attr) for name, (module, attr) in STAGES.items()}

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                current[name] = current.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    for name, (module, attr) in STAGES.items():
        setattr(module, attr, timed(name, originals[name]))
    try:
        run()  # warm-up
        for _ in range(repeat):
            current.clear()
            run()
            for name in STAGES:
                spent[name].append(current.get(name, 0.0))
    finally:
        for name, (module, attr) in STAGES.items():
            setattr(module, attr, originals[name])
    for name in STAGES:
        print(f"{name:34} median {statistics.median(spent[name]):.3f} s")
    after = sum(statistics.median(spent[name]) for name in list(STAGES)[:3])
    print(f"{'after detection, per parameter set':34} {after:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
