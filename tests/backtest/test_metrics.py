"""Backtest metrics against textbook formulas worked out by hand on small curves and trades."""

from __future__ import annotations

import math
from dataclasses import asdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.backtest.metrics import (
    SQN_TRADE_CAP,
    ClosedTrade,
    Metrics,
    compute_metrics,
    max_drawdown,
)
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import DAY_MS, HOUR_MS

T0 = 1_704_067_200_000  # 2024-01-01T00:00Z
LONG, SHORT = Direction.BULLISH, Direction.BEARISH


def days(*values: float) -> list[int]:
    return [T0 + int(value * DAY_MS) for value in values]


def trade(
    entry_day: float,
    exit_day: float,
    *,
    pnl: float,
    entry_price: float = 100.0,
    quantity: float = 1.0,
    direction: Direction = LONG,
    fees: float = 0.0,
    r_multiple: float | None = None,
) -> ClosedTrade:
    entry_time, exit_time = days(entry_day, exit_day)
    return ClosedTrade(
        entry_time=entry_time,
        exit_time=exit_time,
        entry_price=entry_price,
        exit_price=entry_price,
        quantity=quantity,
        direction=direction,
        pnl=pnl,
        fees=fees,
        r_multiple=r_multiple,
    )


CURVE_TIMES = days(0, 1, 2, 3, 4)
CURVE = [100.0, 110.0, 99.0, 121.0, 121.0]
TRADES = [
    # long 2 @ 100 -> 110, fees 1: pnl 2 * 10 - 1 = 19
    ClosedTrade(*days(0, 1), 100.0, 110.0, 2.0, LONG, 19.0, 1.0, 1.9),
    # short 1 @ 200 -> 210, fees 1: pnl -10 - 1 = -11
    ClosedTrade(*days(0.5, 2), 200.0, 210.0, 1.0, SHORT, -11.0, 1.0, -1.1),
    # long 4 @ 50 -> 60, fees 2: pnl 40 - 2 = 38, no stop so no R
    ClosedTrade(*days(3, 5), 50.0, 60.0, 4.0, LONG, 38.0, 2.0, None),
]


def hand_built() -> Metrics:
    return compute_metrics(
        CURVE_TIMES,
        CURVE,
        TRADES,
        initial_capital=100.0,
        bar_ms=DAY_MS,
        buy_and_hold_prices=[50.0, 60.0, 55.0],
        ambiguous=2,
    )


def test_return_statistics_follow_the_textbook_formulas_on_a_daily_curve() -> None:
    m = compute_metrics(CURVE_TIMES, CURVE, [], initial_capital=100.0, bar_ms=DAY_MS)
    r = [110 / 100 - 1, 99 / 110 - 1, 121 / 99 - 1, 121 / 121 - 1]
    mean = sum(r) / 4
    std = math.sqrt(sum((x - mean) ** 2 for x in r) / 3)
    downside = math.sqrt((99 / 110 - 1) ** 2 / 4)
    cagr = 1.21 ** (365 / 4) - 1
    assert m.total_return == pytest.approx(0.21)
    assert m.final_equity == 121.0
    assert m.cagr == pytest.approx(cagr)
    assert m.volatility == pytest.approx(std * math.sqrt(365))
    assert m.sharpe == pytest.approx(mean / std * math.sqrt(365))
    assert m.sortino == pytest.approx(mean / downside * math.sqrt(365))
    assert m.max_drawdown == pytest.approx(0.1)
    assert m.max_drawdown_amount == pytest.approx(11.0)
    assert m.calmar == pytest.approx(cagr / 0.1)
    # Peak 110 on day 1, back above it (121) on day 3.
    assert m.max_drawdown_duration_ms == 2 * DAY_MS
    assert m.longest_drawdown_ms == 2 * DAY_MS


def test_hourly_bars_annualise_over_8760_periods() -> None:
    times = [T0 + i * HOUR_MS for i in range(4)]
    m = compute_metrics(
        times, [100.0, 101.0, 100.0, 102.0], [], initial_capital=100.0, bar_ms=HOUR_MS
    )
    r = [0.01, 100 / 101 - 1, 0.02]
    mean = sum(r) / 3
    std = math.sqrt(sum((x - mean) ** 2 for x in r) / 2)
    assert m.sharpe == pytest.approx(mean / std * math.sqrt(8760))
    assert m.cagr == pytest.approx(1.02 ** (8760 / 3) - 1)


def test_trade_statistics_follow_the_textbook_formulas() -> None:
    m = hand_built()
    returns = [19 / 200, -11 / 200, 38 / 200]
    r_mean = (1.9 - 1.1) / 2
    r_std = math.sqrt(((1.9 - r_mean) ** 2 + (-1.1 - r_mean) ** 2) / 1)
    assert m.trades == 3
    assert m.win_rate == pytest.approx(2 / 3)
    assert m.profit_factor == pytest.approx((19 + 38) / 11)
    assert m.expectancy_r == pytest.approx(0.4)
    assert m.expectancy_pct == pytest.approx(sum(returns) / 3)
    growth = (1 + 19 / 200) * (1 - 11 / 200) * (1 + 38 / 200)
    assert m.avg_trade_pct == pytest.approx(growth ** (1 / 3) - 1)
    assert m.best_trade_pct == pytest.approx(0.19)
    assert m.worst_trade_pct == pytest.approx(-0.055)
    assert m.sqn == pytest.approx(math.sqrt(2) * r_mean / r_std)
    assert m.avg_duration_ms == pytest.approx((1 + 1.5 + 2) / 3 * DAY_MS)
    assert m.fees_paid == pytest.approx(4.0)
    assert m.buy_and_hold_return == pytest.approx(0.1)
    assert m.ambiguous == 2


def test_exposure_counts_overlapping_trades_once_and_clips_them_to_the_curve() -> None:
    # Covered: days 0-2 (two overlapping trades) and 3-4 (the third, clipped at the end).
    assert hand_built().exposure == pytest.approx(3 / 4)


def test_sqn_caps_the_number_of_trades_at_one_hundred() -> None:
    trades = [trade(0, 1, pnl=1.0, r_multiple=2.0 if i % 2 else 0.0) for i in range(150)]
    m = compute_metrics(days(0, 1), [100.0, 100.0], trades, initial_capital=100.0, bar_ms=DAY_MS)
    std = math.sqrt(150 * 1.0**2 / 149)  # R alternates 0 and 2 around a mean of 1
    assert SQN_TRADE_CAP == 100
    assert m.sqn == pytest.approx(math.sqrt(100) * 1.0 / std)


def test_the_deepest_drawdown_and_the_longest_one_are_reported_separately() -> None:
    # A shallow dip lasting 4 days, then a 50 % fall that recovers 2 days later.
    times = days(0, 1, 2, 3, 4, 5, 6, 7)
    dd = max_drawdown(times, [100.0, 95.0, 96.0, 97.0, 100.0, 120.0, 60.0, 130.0])
    assert dd.fraction == pytest.approx(0.5)
    assert dd.amount == pytest.approx(60.0)
    assert dd.duration_ms == 2 * DAY_MS
    assert dd.longest_ms == 4 * DAY_MS


def test_an_unrecovered_drawdown_lasts_until_the_end_of_the_curve() -> None:
    dd = max_drawdown(days(0, 1, 2, 3), [100.0, 120.0, 90.0, 110.0])
    assert dd.fraction == pytest.approx(0.25)
    assert dd.duration_ms == 2 * DAY_MS
    assert dd.longest_ms == 2 * DAY_MS


def test_no_trades_leave_the_trade_figures_undefined() -> None:
    m = compute_metrics(CURVE_TIMES, CURVE, [], initial_capital=100.0, bar_ms=DAY_MS)
    assert m.trades == 0
    assert m.exposure == 0.0
    assert m.fees_paid == 0.0
    for name in (
        "win_rate",
        "profit_factor",
        "expectancy_r",
        "expectancy_pct",
        "sqn",
        "avg_trade_pct",
        "best_trade_pct",
        "worst_trade_pct",
        "avg_duration_ms",
        "buy_and_hold_return",
    ):
        assert getattr(m, name) is None, name


def test_no_losing_trade_leaves_the_profit_factor_undefined_and_no_winner_makes_it_zero() -> None:
    winners = [trade(0, 1, pnl=5.0), trade(1, 2, pnl=0.0)]
    losers = [trade(0, 1, pnl=-5.0), trade(1, 2, pnl=-1.0)]
    kwargs = {"initial_capital": 100.0, "bar_ms": DAY_MS}
    assert compute_metrics(CURVE_TIMES, CURVE, winners, **kwargs).profit_factor is None
    assert compute_metrics(CURVE_TIMES, CURVE, losers, **kwargs).profit_factor == 0.0
    assert compute_metrics(CURVE_TIMES, CURVE, winners, **kwargs).win_rate == 0.5


def test_a_flat_curve_has_zero_volatility_and_no_risk_adjusted_ratios() -> None:
    m = compute_metrics(days(0, 1, 2, 3), [100.0] * 4, [], initial_capital=100.0, bar_ms=DAY_MS)
    assert m.total_return == 0.0
    assert m.cagr == 0.0
    assert m.volatility == 0.0
    assert (m.sharpe, m.sortino, m.calmar) == (None, None, None)
    assert (m.max_drawdown, m.max_drawdown_amount, m.max_drawdown_duration_ms) == (0.0, 0.0, 0)


def test_a_single_bar_has_a_return_but_nothing_annualised() -> None:
    m = compute_metrics(days(0), [105.0], [], initial_capital=100.0, bar_ms=DAY_MS)
    assert m.total_return == pytest.approx(0.05)
    for name in ("cagr", "volatility", "sharpe", "sortino", "calmar", "exposure"):
        assert getattr(m, name) is None, name


def test_a_curve_that_only_rises_has_no_sortino_and_no_calmar() -> None:
    m = compute_metrics(
        days(0, 1, 2), [100.0, 101.0, 103.0], [], initial_capital=100.0, bar_ms=DAY_MS
    )
    assert m.sharpe is not None
    assert (m.sortino, m.calmar) == (None, None)


def test_ruin_loses_everything_and_leaves_the_period_returns_undefined() -> None:
    m = compute_metrics(
        days(0, 1, 2), [100.0, 50.0, -20.0], [], initial_capital=100.0, bar_ms=DAY_MS
    )
    assert m.total_return == pytest.approx(-1.2)
    assert m.cagr == -1.0
    assert m.max_drawdown == 1.0
    assert m.max_drawdown_amount == pytest.approx(120.0)
    assert (m.volatility, m.sharpe, m.sortino) == (None, None, None)
    assert m.calmar == -1.0


def test_a_trade_losing_more_than_its_notional_leaves_the_average_trade_undefined() -> None:
    trades = [trade(0, 1, pnl=-150.0), trade(1, 2, pnl=50.0)]
    m = compute_metrics(CURVE_TIMES, CURVE, trades, initial_capital=100.0, bar_ms=DAY_MS)
    assert m.avg_trade_pct is None
    assert m.expectancy_pct == pytest.approx((-1.5 + 0.5) / 2)
    assert m.worst_trade_pct == pytest.approx(-1.5)


def test_a_growth_too_large_to_annualise_gives_no_cagr() -> None:
    times = [T0, T0 + 60_000]
    m = compute_metrics(times, [100.0, 200.0], [], initial_capital=100.0, bar_ms=60_000)
    assert m.cagr is None


@pytest.mark.parametrize(
    ("times", "equity", "message"),
    [
        ([], [], "empty"),
        ([T0, T0 + 1], [1.0], "one equity value per time"),
        ([T0, T0], [1.0, 2.0], "strictly increasing"),
        ([T0, T0 + 1], [1.0, math.nan], "finite"),
    ],
)
def test_a_malformed_curve_is_refused(times: list[int], equity: list[float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        compute_metrics(times, equity, [], initial_capital=100.0, bar_ms=DAY_MS)


def test_bad_capital_interval_count_and_trades_are_refused() -> None:
    with pytest.raises(ValidationError, match="initial capital"):
        compute_metrics(CURVE_TIMES, CURVE, [], initial_capital=0.0, bar_ms=DAY_MS)
    with pytest.raises(ValidationError, match="bar interval"):
        compute_metrics(CURVE_TIMES, CURVE, [], initial_capital=1.0, bar_ms=0)
    with pytest.raises(ValidationError, match="ambiguous"):
        compute_metrics(CURVE_TIMES, CURVE, [], initial_capital=1.0, bar_ms=DAY_MS, ambiguous=-1)
    with pytest.raises(ValidationError, match="exit before"):
        compute_metrics(
            CURVE_TIMES, CURVE, [trade(2, 1, pnl=1.0)], initial_capital=1.0, bar_ms=DAY_MS
        )
    with pytest.raises(ValidationError, match="positive entry price"):
        compute_metrics(
            CURVE_TIMES,
            CURVE,
            [trade(0, 1, pnl=1.0, quantity=0.0)],
            initial_capital=1.0,
            bar_ms=DAY_MS,
        )


curves = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40)
positive_curves = st.lists(st.floats(50.0, 200.0), min_size=3, max_size=40)


@given(curves)
def test_max_drawdown_is_a_fraction_between_zero_and_one(equity: list[float]) -> None:
    dd = max_drawdown([T0 + i * DAY_MS for i in range(len(equity))], equity)
    assert 0.0 <= dd.fraction <= 1.0
    assert dd.amount >= 0.0
    assert 0 <= dd.duration_ms <= dd.longest_ms <= (len(equity) - 1) * DAY_MS


@settings(max_examples=200)
@given(positive_curves, st.floats(1e-3, 1e3))
def test_scaling_the_equity_leaves_every_ratio_unchanged(equity: list[float], k: float) -> None:
    times = [T0 + i * DAY_MS for i in range(len(equity))]
    base = compute_metrics(times, equity, [], initial_capital=100.0, bar_ms=DAY_MS)
    scaled = compute_metrics(
        times, [value * k for value in equity], [], initial_capital=100.0 * k, bar_ms=DAY_MS
    )
    for name in (
        "total_return",
        "cagr",
        "volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "calmar",
    ):
        a, b = getattr(base, name), getattr(scaled, name)
        assert (a is None) == (b is None), name
        if a is not None:
            assert b == pytest.approx(a, rel=1e-6, abs=1e-9), name
    assert scaled.max_drawdown_duration_ms == base.max_drawdown_duration_ms


@settings(max_examples=300)
@given(
    st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=30),
    st.floats(1.0, 1e9),
    st.sampled_from([60_000, HOUR_MS, DAY_MS]),
)
def test_no_figure_is_ever_infinite_or_nan(
    equity: list[float], capital: float, bar_ms: int
) -> None:
    times = [T0 + i * bar_ms for i in range(len(equity))]
    m = compute_metrics(times, equity, TRADES, initial_capital=capital, bar_ms=bar_ms)
    for name, value in asdict(m).items():
        assert value is None or math.isfinite(value), name


pnls = st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=20)


@given(pnls, st.floats(-1e6, -1.0), st.floats(1.0, 1e6))
def test_adding_a_winning_trade_raises_the_profit_factor(
    pnl: list[float], loss: float, win: float
) -> None:
    trades = [trade(0, 1, pnl=value) for value in [*pnl, loss]]
    kwargs = {"initial_capital": 100.0, "bar_ms": DAY_MS}
    before = compute_metrics(CURVE_TIMES, CURVE, trades, **kwargs)
    after = compute_metrics(CURVE_TIMES, CURVE, [*trades, trade(1, 2, pnl=win)], **kwargs)
    assert before.profit_factor is not None
    assert after.profit_factor is not None
    assert after.profit_factor > before.profit_factor
    assert before.win_rate is not None
    assert after.win_rate is not None
    assert 0.0 <= before.win_rate <= after.win_rate <= 1.0


@given(st.lists(st.tuples(st.floats(-2, 6), st.floats(0, 5)), max_size=10))
def test_exposure_is_a_fraction_of_the_curve(spans: list[tuple[float, float]]) -> None:
    trades = [trade(start, start + length, pnl=0.0) for start, length in spans]
    m = compute_metrics(CURVE_TIMES, CURVE, trades, initial_capital=100.0, bar_ms=DAY_MS)
    assert m.exposure is not None
    assert 0.0 <= m.exposure <= 1.0
