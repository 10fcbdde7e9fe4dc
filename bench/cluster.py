"""Benchmark: signals and their expectancy on the shipped BTC/USD hourly history (Coinbase,
2017-07..2019-10) with the default strategy: base 1h, the default timeframes from 1h up (1h,
2h, 4h, 1d), the default signal rules, traded by the backtest engine with and without fees.

    python bench/cluster.py [--repeat 3]

Prints the number of signals, the signals' own tracked R (the live outcome: no fees), the
backtest's trades and their expectancy in R: every filled signal traded (position limits
lifted) without costs and with the default fees (2 bps maker, 10 bps taker), and the default
execution model (one position per symbol), and the median wall time of ``--repeat`` runs.
Run it on a checkout before and after a change of the signal rules to compare them (issue 20:
one event, one vote).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import pandas as pd

import cryptolens
from _common import header, median_seconds
from cryptolens.backtest.engine import BacktestResult, run_backtest
from cryptolens.backtest.execution import DEFAULT_EXECUTION, ExecutionModel
from cryptolens.detect import as_candles

DATA = Path(cryptolens.__file__).parent / "data" / "coinbase_btcusd_1h.csv.gz"
TIMEFRAMES = ("1h", "2h", "4h", "1d")
#: Every filled signal traded (no position limit), so the trades are the signals.
EVERY = {"max_positions_per_symbol": 100_000, "max_positions": 100_000}
EXECUTIONS = {
    "every signal, no costs": ExecutionModel(maker_fee_bps=0.0, taker_fee_bps=0.0, **EVERY),
    "every signal, fees": ExecutionModel(**EVERY),
    "one position, fees": DEFAULT_EXECUTION,
}


def expectancy(result: BacktestResult) -> tuple[int, float, float]:
    """Trades, mean R and win rate of a backtest's trades."""
    r = [t.r_multiple for t in result.trades]
    wins = sum(t.pnl > 0 for t in result.trades)
    return len(r), statistics.fmean(r) if r else float("nan"), wins / len(r) if r else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    header(f"cluster: BTC/USD 1h history, timeframes {', '.join(TIMEFRAMES)}")
    base = as_candles(pd.read_csv(DATA))
    results: dict[str, BacktestResult] = {}

    def run() -> None:
        for name, execution in EXECUTIONS.items():
            results[name] = run_backtest(
                base, base_timeframe="1h", timeframes=TIMEFRAMES, execution=execution
            )

    median, times = median_seconds(run, repeat=args.repeat)
    replayed = results["one position, fees"].replays[""]
    signals = replayed.signals
    tracked = [s.outcome.r_multiple for s in signals if s.outcome.r_multiple is not None]
    confluence = [s.draft.confluence for s in signals]
    wins = sum(r > 0 for r in tracked)
    print(f"candles {len(base):,}, zones {replayed.zones:,}, signals {len(signals):,}")
    print(
        "confluence of the signals: "
        + ", ".join(f"{c}: {confluence.count(c)}" for c in sorted(set(confluence)))
    )
    print(
        f"signals' tracked outcome: {len(tracked):,} with an R, "
        f"mean {statistics.fmean(tracked):+.3f} R, wins {wins / len(tracked):.1%}"
    )
    for name, result in results.items():
        trades, mean_r, win = expectancy(result)
        print(f"backtest, {name}: {trades:,} trades, expectancy {mean_r:+.3f} R, wins {win:.1%}")
    runs = ", ".join(f"{t:.2f}" for t in times)
    print(f"median {median:.2f} s over {args.repeat} runs of the three backtests ({runs})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
