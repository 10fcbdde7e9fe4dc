"""Benchmark: a parameter sweep over one year of seeded synthetic 1m candles (525,600) for one
symbol and the 8 default timeframes; each combination is a full backtest (confluence, outcome
tracking, fills, metrics), detection is prepared once. Goal: 100 combinations in <= 60 s.

    python bench/backtest_sweep.py [--combinations 100] [--mode grid|random] [--repeat 1]
                                   [--n 525600] [--profile] [--walk-forward]

The default grid (100 combinations) varies signal rules, the stop buffer, the targets and the
taker fee: min_confluence 2,3 x stop_atr 0.5..2.5 x target_scale 1,1.5 x taker_fee_bps 2..10.
``--mode random`` draws ``--combinations`` from a wide space where nearly every draw fires
signals differently (the worst case: one confluence run per combination). Prints the median
of ``--repeat`` sweeps (each from a cold cache, after an untimed warm-up on a small slice),
the work shared, the time per combination and the verdict; exits 1 when the goal is missed.
``--walk-forward`` times a rolling walk-forward with the same combinations (90-day in-sample,
30-day out-of-sample windows) and only prints the figure.
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import header, median_seconds, print_profile
from cryptolens.backtest.execution import ExecutionModel
from cryptolens.backtest.sweep import (
    SweepResult,
    SweepSpec,
    parse_space,
    run_sweep,
)
from cryptolens.backtest.sweep_forward import run_walk_forward
from cryptolens.backtest.walkforward import walk_forward_splits
from cryptolens.detect import Candles
from cryptolens.domain.timeframes import DAY_MS, TIMEFRAME_MS
from cryptolens.market.synthetic import synthetic_candles

GOAL_S = 60.0
GOAL_COMBINATIONS = 100
YEAR = 525_600
EXECUTION = ExecutionModel(maker_fee_bps=2, taker_fee_bps=5, slippage_value=2)
GRID = [
    "min_confluence=2,3",
    "stop_atr=0.5:2.5:0.5",
    "target_scale=1,1.5",
    "taker_fee_bps=2:10:2",
]
WIDE = [
    "min_confluence=1:4:1",
    "require_higher_timeframe=false,true",
    "cooldown_hours=1,2,4,8,12,24",
    "proximity=0.002,0.005,0.01",
    "stop_atr=0.5:2.5:0.5",
    "target_scale=0.5,1,1.5,2",
    "pattern_types=fvg+order_block+liquidity_sweep,fvg+order_block,fvg,order_block",
    "taker_fee_bps=2:10:2",
    "risk_pct=0.5,1,2",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--combinations", type=int, default=GOAL_COMBINATIONS)
    parser.add_argument("--mode", choices=("grid", "random"), default="grid")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--n", type=int, default=YEAR, help="1m candles")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--metric", default="sharpe")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--walk-forward",
        action="store_true",
        help="time a rolling walk-forward (90-day in-sample, 30-day out-of-sample) instead",
    )
    args = parser.parse_args()
    timeframes = tuple(TIMEFRAME_MS)
    header(
        f"backtest sweep: {args.combinations} combinations ({args.mode}), {args.n:,} 1m "
        f"candles, timeframes {', '.join(timeframes)}"
    )
    candles = synthetic_candles(args.n, seed=args.seed)
    space = parse_space(GRID if args.mode == "grid" else WIDE)
    last: list[SweepResult] = []

    def spec_of(combinations: int) -> SweepSpec:
        return SweepSpec(
            space,
            "1m",
            timeframes,
            metric=args.metric,
            mode="random",  # the whole grid when it has no more than ``combinations``
            count=combinations,
            seed=args.seed,
            execution=EXECUTION,
        )

    def sweep(n: int, combinations: int) -> SweepResult:
        return run_sweep({"SYN": candles[:n]}, spec_of(combinations))

    def run() -> None:
        last[:] = [sweep(args.n, args.combinations)]

    if args.profile:
        print_profile(run)
        return 0
    if args.walk_forward:
        return walk_forward(candles, spec_of(args.combinations))
    started = time.perf_counter()
    sweep(min(args.n, 20_000), 2)  # warm-up: imports and first-touch allocations
    print(f"warm-up: {time.perf_counter() - started:.2f} s")
    median, times = median_seconds(run, repeat=args.repeat)
    result = last[0]
    best = result.best
    count = len(result.rows)
    print(
        f"combinations {count}, detections {result.prepares}, confluence runs "
        f"{result.signal_runs}; best {args.metric} {best.score}, {best.metrics.trades:,} "
        f"trades, params {best.params}"
    )
    runs = ", ".join(f"{t:.1f}" for t in times)
    print(
        f"median {median:.1f} s over {args.repeat} runs ({runs}); "
        f"{median / count:.2f} s per combination"
    )
    goal = GOAL_S * count / GOAL_COMBINATIONS
    ok = median <= goal
    print(f"goal <= {goal:.0f} s for {count} combinations: {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


def walk_forward(candles: Candles, spec: SweepSpec) -> int:
    """Time one rolling walk-forward over ``candles``; prints the figure (no goal is set)."""
    start = int(candles.open_time[0])
    end = int(candles.open_time[-1]) + TIMEFRAME_MS["1m"]
    splits = walk_forward_splits(start, end, in_sample_ms=90 * DAY_MS, out_of_sample_ms=30 * DAY_MS)
    started = time.perf_counter()
    result = run_walk_forward({"SYN": candles}, spec, splits)
    took = time.perf_counter() - started
    runs = len(splits) * (len(spec.setups()) + 1)
    print(
        f"walk-forward: {len(splits)} splits, {runs} backtests, {result.prepares} detections, "
        f"{len(result.warnings)} divergence warnings"
    )
    stitched = result.stitched
    if stitched is not None:
        print(
            f"stitched out of sample: {stitched.trades:,} trades, sharpe {stitched.sharpe}, "
            f"total return {stitched.total_return:.2%}"
        )
    print(f"{took:.1f} s, {took / runs:.2f} s per backtest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
