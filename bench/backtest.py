"""Benchmark: backtest one year of seeded synthetic 1m candles (525,600) for one symbol over the
8 default timeframes, the full pipeline (aggregation, detection, lifecycle, confluence, outcome
tracking, fills with fees and slippage). Goal: median <= 2 s.

    python bench/backtest.py [--repeat 3] [--n 525600] [--profile]

Prints the median of ``--repeat`` runs (one untimed warm-up first) and the run's counts;
``--profile`` prints where the time goes instead. Exits 1 when the median misses the goal.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time

from _common import header, median_seconds
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


if __name__ == "__main__":
    sys.exit(main())
