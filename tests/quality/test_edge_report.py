"""The hold-rate and signal sections: counting, verdicts and small-sample flags."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from cryptolens.domain.enums import Direction
from cryptolens.quality.edge_report import GroupKey, hold_rows, signal_rows, tally
from cryptolens.quality.outcomes import Outcome
from cryptolens.quality.stats import Verdict, wilson

HELD, FAILED = Outcome(True, 1, 2), Outcome(False, 1, 2)
UNTOUCHED, UNDECIDED = Outcome(None, None, None), Outcome(None, 1, None)
FVG_1H_BULL: GroupKey = ("fvg", "1h", "bullish")
OB_4H_BEAR: GroupKey = ("order_block", "4h", "bearish")


def outcomes(held: int, failed: int, untouched: int = 0, undecided: int = 0) -> list[Outcome]:
    return [HELD] * held + [FAILED] * failed + [UNTOUCHED] * untouched + [UNDECIDED] * undecided


def test_tally_counts_untouched_and_undecided_apart_from_the_rate() -> None:
    got = tally(outcomes(6, 4, untouched=3, undecided=2))
    assert (got.zones, got.held, got.failed, got.untouched, got.undecided) == (15, 6, 4, 3, 2)
    assert got.rate == wilson(6, 10)


def test_real_zones_holding_far_more_often_than_placebo_show_an_edge() -> None:
    real = outcomes(80, 20)
    placebo = outcomes(50, 50)
    [row] = hold_rows([FVG_1H_BULL] * 100, real, placebo)
    assert row.verdict is Verdict.EDGE
    assert row.difference is not None
    assert row.difference.low > 0
    assert not row.small


def test_a_rate_inside_the_placebos_interval_is_plainly_no_edge() -> None:
    [row] = hold_rows([FVG_1H_BULL] * 100, outcomes(55, 45), outcomes(50, 50))
    assert row.verdict is Verdict.NO_EDGE


def test_zones_holding_less_often_than_placebo_are_worse_than_chance() -> None:
    [row] = hold_rows([FVG_1H_BULL] * 100, outcomes(25, 75), outcomes(60, 40))
    assert row.verdict is Verdict.WORSE


def test_fewer_than_thirty_decided_zones_on_either_side_flags_a_small_sample() -> None:
    # 29 decided real zones (and 10 untouched): small, whatever the placebo count.
    keys = [OB_4H_BEAR] * 39
    real = outcomes(20, 9, untouched=10)
    placebo = outcomes(100, 95)  # five draws per zone
    [row] = hold_rows(keys, real, placebo[: 39 * 5], draws=5)
    assert row.small
    assert row.real.decided == 29
    [row] = hold_rows(keys, outcomes(20, 19), outcomes(15, 14, untouched=10), draws=1)
    assert row.small
    assert row.placebo.decided == 29
    [row] = hold_rows(keys, outcomes(20, 19), outcomes(20, 19), draws=1)
    assert not row.small


def test_rows_are_grouped_and_sorted_and_placebo_draws_follow_their_zone() -> None:
    keys = [OB_4H_BEAR, FVG_1H_BULL, OB_4H_BEAR]
    real = [HELD, FAILED, HELD]
    placebo = [FAILED, FAILED, HELD, HELD, UNTOUCHED, FAILED]  # two per zone, zone by zone
    rows = hold_rows(keys, real, placebo, draws=2)
    assert [(r.pattern_type, r.timeframe) for r in rows] == [("fvg", "1h"), ("order_block", "4h")]
    assert (rows[0].placebo.held, rows[0].placebo.failed) == (2, 0)
    assert (rows[1].placebo.held, rows[1].placebo.failed, rows[1].placebo.untouched) == (0, 3, 1)
    assert rows[1].real.held == 2


def test_a_group_without_decided_zones_has_no_interval_and_no_edge() -> None:
    [row] = hold_rows([FVG_1H_BULL] * 2, [UNTOUCHED, UNDECIDED], [HELD, FAILED])
    assert row.real.rate is None
    assert row.difference is None
    assert row.verdict is Verdict.NO_EDGE
    assert row.small


def test_misaligned_outcomes_are_refused() -> None:
    with pytest.raises(ValueError, match="line up"):
        hold_rows([FVG_1H_BULL], [HELD], [HELD], draws=2)


@dataclass(frozen=True)
class Trade:
    direction: Direction
    r_multiple: float | None
    pnl: float
    entry_price: float = 100.0
    quantity: float = 1.0
    entry_time: int = 0
    exit_time: int = 1
    exit_price: float = 100.0
    fees: float = 0.0


def test_signal_rows_give_expectancy_in_r_and_percent_with_deterministic_intervals() -> None:
    rng = np.random.default_rng(2)
    r = rng.normal(0.3, 1.0, 200)
    trades = [
        Trade(Direction.BULLISH if i % 2 else Direction.BEARISH, float(x), float(x))
        for i, x in enumerate(r)
    ]
    rows = signal_rows(trades, seed=4)
    assert rows == signal_rows(trades, seed=4)
    assert [(row.scope, row.trades) for row in rows] == [
        ("all", 200),
        ("bullish", 100),
        ("bearish", 100),
    ]
    everything = rows[0]
    assert everything.trades == 200
    assert not everything.small
    assert everything.expectancy_r is not None
    assert everything.expectancy_pct is not None
    assert everything.expectancy_r.value == pytest.approx(r.mean())
    # pnl / (100 x 1) in percent: the same numbers as R here.
    assert everything.expectancy_pct.value == pytest.approx(r.mean())
    assert everything.verdict is Verdict.EDGE
    assert everything.win_rate == pytest.approx(float(np.mean(r > 0)))


def test_few_losing_trades_are_flagged_and_have_no_edge() -> None:
    trades = [Trade(Direction.BULLISH, -0.5, -0.5), Trade(Direction.BULLISH, 0.2, 0.2)]
    [everything, bullish] = signal_rows(trades, seed=1)
    assert everything.small
    assert everything.verdict is Verdict.NO_EDGE
    assert bullish.scope == "bullish"
    assert bullish.trades == 2
