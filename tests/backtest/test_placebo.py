"""Placebo baseline: random entry times, same trades otherwise, deterministic for a seed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.backtest.metrics import ClosedTrade
from cryptolens.backtest.placebo import (
    MAX_RUNS,
    PlaceboResult,
    draw_entry_bars,
    placebo_baseline,
)
from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from tests.builders.candles import HOUR, START, bars

LONG, SHORT = Direction.BULLISH, Direction.BEARISH


def held(
    hours: int,
    *,
    direction: Direction = LONG,
    pnl: float = 0.0,
    entry_price: float = 100.0,
    quantity: float = 10.0,
) -> ClosedTrade:
    return ClosedTrade(
        entry_time=START,
        exit_time=START + hours * HOUR,
        entry_price=entry_price,
        exit_price=entry_price,
        quantity=quantity,
        direction=direction,
        pnl=pnl,
        fees=0.0,
    )


def random_walk(n: int, seed: int = 42) -> Candles:
    closes = 100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n)))
    opens = np.concatenate(([100.0], closes[:-1]))
    rows = [(o, max(o, c) + 0.1, min(o, c) - 0.1, c) for o, c in zip(opens, closes, strict=True)]
    return bars(rows)


WALK = random_walk(500)
MIXED = [held(3, pnl=40.0), held(1, direction=SHORT, pnl=-5.0), held(12, pnl=25.0)]


def baseline(candles: Candles, trades: list[ClosedTrade], **overrides: Any) -> PlaceboResult:
    settings: dict[str, Any] = {
        "bar_ms": HOUR,
        "initial_capital": 1000.0,
        "fee_rate": 0.001,
        "seed": 42,
        "runs": 200,
    }
    return placebo_baseline(candles, trades, **(settings | overrides))


def test_the_same_seed_gives_the_same_runs_and_another_seed_different_ones() -> None:
    first = placebo_baseline(
        WALK, MIXED, bar_ms=HOUR, initial_capital=1000.0, fee_rate=0.001, seed=7
    )
    again = placebo_baseline(
        WALK, MIXED, bar_ms=HOUR, initial_capital=1000.0, fee_rate=0.001, seed=7
    )
    other = placebo_baseline(
        WALK, MIXED, bar_ms=HOUR, initial_capital=1000.0, fee_rate=0.001, seed=8
    )
    assert first == again
    assert first.returns != other.returns
    assert first.seed == 7
    assert len(first.returns) == first.runs == 1000


def test_every_run_on_candles_that_always_rise_ten_percent_earns_the_hand_worked_pnl() -> None:
    # Each candle opens at 100 and closes at 110: wherever a one-bar trade lands, a long of
    # 1,000 notional buys 10 units and gains 100, a short loses 100; fees 0.1 % of 1,000 + 1,100.
    rising = bars([(100.0, 111.0, 99.0, 110.0)] * 50)
    trades = [held(1, pnl=0.0), held(1, direction=SHORT, pnl=0.0)]
    result = placebo_baseline(
        rising, trades, bar_ms=HOUR, initial_capital=1000.0, fee_rate=0.001, seed=1, runs=20
    )
    fees = 2 * 0.001 * (10 * 100 + 10 * 110)
    expected = (100 - 100 - fees) / 1000
    assert result.returns == pytest.approx([expected] * 20)
    assert result.median == pytest.approx(expected)


def test_a_trade_held_over_every_candle_enters_at_the_first_open_and_exits_at_the_last_close() -> (
    None
):
    candles = bars([(100.0, 101, 99, 100.0), (100.0, 121, 99, 120.0), (120.0, 131, 119, 125.0)])
    # Held 2.6 hours: rounded to 3 bars, the whole history, so every run is the same trade.
    trade = ClosedTrade(START, START + 156 * 60_000, 50.0, 50.0, 20.0, SHORT, 0.0, 0.0)
    result = placebo_baseline(
        candles, [trade], bar_ms=HOUR, initial_capital=1000.0, fee_rate=0.0, seed=3, runs=5
    )
    # 1,000 notional short at 100, covered at 125: 10 units lose 25 each.
    assert result.returns == pytest.approx([-250 / 1000] * 5)


def test_a_strategy_far_above_chance_beats_every_run_and_far_below_beats_none() -> None:
    lucky = [held(3, pnl=10_000.0), held(2, pnl=10_000.0)]
    unlucky = [held(3, pnl=-10_000.0), held(2, pnl=-10_000.0)]
    assert baseline(WALK, lucky).beaten == 1.0
    assert baseline(WALK, unlucky).beaten == 0.0


def test_the_summary_is_ordered_and_matches_the_runs() -> None:
    result = placebo_baseline(
        WALK, MIXED, bar_ms=HOUR, initial_capital=1000.0, fee_rate=0.001, seed=5, runs=301
    )
    ordered = sorted(result.returns)
    assert result.p5 <= result.p25 <= result.median <= result.p75 <= result.p95
    assert result.median == ordered[150]
    assert result.strategy_return == pytest.approx(60.0 / 1000)
    assert result.beaten == sum(r < 0.06 for r in result.returns) / 301


def test_no_trades_give_flat_runs() -> None:
    result = baseline(WALK, [])
    assert set(result.returns) == {0.0}
    assert result.beaten == 0.0


@given(
    st.integers(1, 60),
    st.lists(st.integers(1, 60), min_size=1, max_size=8),
    st.integers(0, 2**32),
)
def test_no_placebo_trade_runs_past_the_last_candle(n: int, holding: list[int], seed: int) -> None:
    hold = np.minimum(np.array(holding, dtype=np.int64), n)
    starts = draw_entry_bars(np.random.default_rng(seed), bars=n, holding=hold, runs=50)
    assert starts.shape == (50, len(hold))
    assert starts.min() >= 0
    assert np.all(starts + hold - 1 <= n - 1)


def test_a_trade_held_longer_than_the_candles_is_refused() -> None:
    with pytest.raises(ValidationError, match="held 6 bars, longer than the 5 candles"):
        baseline(random_walk(5), [held(6)])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"runs": 0}, f"between 1 and {MAX_RUNS}"),
        ({"runs": MAX_RUNS + 1}, f"between 1 and {MAX_RUNS}"),
        ({"fee_rate": -0.001}, "fee rate"),
        ({"initial_capital": 0.0}, "initial capital"),
        ({"bar_ms": 0}, "bar interval"),
    ],
)
def test_bad_settings_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        baseline(WALK, MIXED, **overrides)


def test_bad_trades_and_candles_are_refused() -> None:
    with pytest.raises(ValidationError, match="positive entry price"):
        baseline(WALK, [held(1, quantity=0.0)])
    backwards = ClosedTrade(START + HOUR, START, 100.0, 100.0, 1.0, LONG, 0.0, 0.0)
    with pytest.raises(ValidationError, match="exit before"):
        baseline(WALK, [backwards])
    with pytest.raises(ValidationError, match="candles"):
        baseline(WALK[0:0], MIXED)
