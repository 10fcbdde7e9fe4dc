"""The whole report on the shipped BTC/USD history: deterministic for a seed, and its
figures agree with the backtest and the outcome label run on their own."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

import cryptolens
from cryptolens.backtest.engine import run_backtest
from cryptolens.detect import Candles, as_candles
from cryptolens.quality.edge import EdgeReport, compute_edge

DATA = Path(cryptolens.__file__).parent / "data" / "coinbase_btcusd_1h.csv.gz"
TIMEFRAMES = ("1h", "4h")


@cache
def btc() -> Candles:
    return as_candles(pd.read_csv(DATA))


@cache
def report(seed: int) -> EdgeReport:
    # The model section (walk-forward training, the slow part) is the CLI tests' to check.
    return compute_edge(
        btc(), base_timeframe="1h", timeframes=TIMEFRAMES, seed=seed, placebo_draws=2, model=None
    )


def test_the_report_is_the_same_for_a_seed() -> None:
    again = compute_edge(
        btc(), base_timeframe="1h", timeframes=TIMEFRAMES, seed=3, placebo_draws=2, model=None
    )
    assert again == report(3)


def test_another_seed_moves_the_placebos_but_not_the_real_zones() -> None:
    first, second = report(3), report(4)
    assert [r.real for r in first.holds] == [r.real for r in second.holds]
    assert [r.placebo for r in first.holds] != [r.placebo for r in second.holds]


def test_every_zone_is_counted_once_and_each_has_its_placebos() -> None:
    got = report(3)
    assert sum(r.real.zones for r in got.holds) == got.zones
    assert sum(r.placebo.zones for r in got.holds) == 2 * got.zones
    assert {r.timeframe for r in got.holds} == set(TIMEFRAMES)
    assert got.candles == len(btc())


def test_signal_expectancy_is_the_backtests_trades_after_fees() -> None:
    trades = run_backtest(btc(), base_timeframe="1h", timeframes=TIMEFRAMES).trades
    everything = report(3).signals[0]
    assert everything.trades == len(trades)
    assert everything.expectancy_r is not None
    assert everything.expectancy_r.value == np.mean([t.r_multiple for t in trades])
    assert report(3).params.taker_fee_bps > 0
