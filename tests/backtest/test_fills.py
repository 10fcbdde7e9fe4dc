"""A plan through hand-built candles: fill, partial exits, break-even, ambiguity, timeout."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.backtest.fills import ExitReason, Plan, Series, walk
from cryptolens.backtest.replay import finer_lookup
from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction, SignalStatus
from cryptolens.signals import Trade, track
from tests.backtest.builders import H, M, bars, long_plan, short_plan, twenty_minutes

THIRDS = (1 / 3, 1 / 3, 1 / 3)


def run(plan: Plan, candles: Candles, **options: object) -> object:
    options.setdefault("fractions", THIRDS)
    options.setdefault("break_even", True)
    return walk(plan, Series.of(candles, H, plan.direction), **options)  # type: ignore[arg-type]


def test_partial_exits_close_the_configured_fractions_at_each_target() -> None:
    path = run(
        long_plan(),
        bars((105, 101), (104, 99.5), (112, 103), (125, 111), (131, 121)),
        fractions=(0.5, 0.3, 0.2),
    )
    assert path.filled_at == 2 * H
    assert [(e.time, e.price, e.fraction, e.reason) for e in path.exits] == [
        (3 * H, 110.0, 0.5, ExitReason.TP1),
        (4 * H, 120.0, 0.3, ExitReason.TP2),
        (5 * H, 130.0, pytest.approx(0.2), ExitReason.TP3),
    ]
    assert path.r_multiple() == pytest.approx(0.5 * 1 + 0.3 * 2 + 0.2 * 3)


def test_fractions_summing_to_one_close_the_trade_at_the_second_target() -> None:
    path = run(long_plan(), bars((101, 99), (125, 105), (131, 121)), fractions=(0.5, 0.5, 0.0))
    assert [e.reason for e in path.exits] == [ExitReason.TP1, ExitReason.TP2]
    assert path.closed_at == 2 * H


def test_after_the_first_target_the_stop_moves_to_break_even() -> None:
    path = run(long_plan(), bars((101, 99), (111, 104), (105, 99.9)))
    assert [(e.price, e.reason) for e in path.exits] == [
        (110.0, ExitReason.TP1),
        (100.0, ExitReason.BREAK_EVEN),
    ]
    assert path.r_multiple() == pytest.approx(1 / 3)


def test_without_break_even_the_original_stop_stays() -> None:
    path = run(long_plan(), bars((101, 99), (111, 104), (105, 99.9), (100, 89)), break_even=False)
    assert [(e.time, e.price, e.reason) for e in path.exits] == [
        (2 * H, 110.0, ExitReason.TP1),
        (4 * H, 90.0, ExitReason.STOP),
    ]
    assert path.r_multiple() == pytest.approx(1 / 3 - 2 / 3)


def test_a_candle_through_stop_and_target_without_finer_candles_is_the_stop_and_ambiguous() -> None:
    path = run(long_plan(), bars((101, 99), (115, 85)))
    assert [(e.price, e.reason) for e in path.exits] == [(90.0, ExitReason.STOP)]
    assert path.ambiguous
    assert not path.resolved_by_finer


@pytest.mark.parametrize(
    ("minutes", "reasons"),
    [
        # Up to 115 first (TP1), then down through break-even.
        (((101, 100), (115, 100), (101, 85)), [ExitReason.TP1, ExitReason.BREAK_EVEN]),
        # Down through the stop first.
        (((101, 85), (115, 100), (101, 100)), [ExitReason.STOP]),
    ],
)
def test_finer_candles_settle_a_candle_through_stop_and_target(
    minutes: tuple[tuple[float, float], ...], reasons: list[ExitReason]
) -> None:
    inner = bars(*minutes, start=H, step=20 * M)

    def finer(open_time: int, span: int) -> tuple[Candles, int] | None:
        return (inner, 20 * M) if open_time == H else None

    path = run(long_plan(), bars((101, 99), (115, 85)), finer=finer)
    assert [e.reason for e in path.exits] == reasons
    assert path.resolved_by_finer
    assert not path.ambiguous


def test_a_stop_on_the_entry_candle_is_certain() -> None:
    path = run(long_plan(), bars((105, 101), (112, 89)))
    assert path.filled_at == 2 * H
    assert [(e.time, e.price, e.reason) for e in path.exits] == [(2 * H, 90.0, ExitReason.STOP)]
    assert not path.ambiguous


def test_an_order_not_reached_before_its_expiry_is_never_filled() -> None:
    path = run(long_plan(expires_at=2 * H), bars((105, 101), (104, 100.5), (100, 95)))
    assert path.filled_at is None
    assert path.exits == ()
    assert path.r_multiple() is None


def test_a_trade_open_at_the_maximum_hold_closes_at_that_candles_close() -> None:
    path = run(long_plan(max_hold_ms=2 * H), bars((101, 99), (105, 101), (107, 103), (130, 80)))
    assert [(e.time, e.price, e.reason) for e in path.exits] == [(3 * H, 105.0, ExitReason.TIMEOUT)]


def test_a_trade_still_open_when_the_data_ends_is_valued_at_the_last_close() -> None:
    path = run(long_plan(), bars((101, 99), (105, 101)))
    assert [(e.time, e.price, e.reason) for e in path.exits] == [(2 * H, 103.0, ExitReason.END)]


def test_a_short_mirrors_the_long() -> None:
    path = run(short_plan(), bars((101, 99), (96, 89), (91, 79), (80, 69)))
    assert path.plan.direction is Direction.BEARISH
    assert [(e.price, e.reason) for e in path.exits] == [
        (90.0, ExitReason.TP1),
        (80.0, ExitReason.TP2),
        (70.0, ExitReason.TP3),
    ]
    assert path.r_multiple() == pytest.approx(2.0)


@settings(max_examples=150, deadline=None)
@given(
    moves=st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=120),
    bullish=st.booleans(),
    offset=st.floats(-6, 6),
    hold=st.integers(1, 30),
    with_finer=st.booleans(),
)
def test_with_thirds_and_break_even_a_path_is_what_live_tracking_records(
    moves: list[float], bullish: bool, offset: float, hold: int, with_finer: bool
) -> None:
    closes = 100 + np.cumsum(moves)
    candles = bars(*zip((closes + 2).tolist(), (closes - 2).tolist(), strict=True))
    plan = (long_plan if bullish else short_plan)(max_hold_ms=hold * H)
    plan = replace(
        plan,
        entry=plan.entry + offset,
        stop=plan.stop + offset,
        targets=tuple(t + offset for t in plan.targets),
    )
    finer = finer_lookup(twenty_minutes(candles), 20 * M) if with_finer else None
    path = run(plan, candles, finer=finer)
    live = track(
        Trade(
            plan.direction,
            plan.entry,
            plan.stop,
            plan.targets,
            plan.created_at,
            plan.expires_at,
            plan.max_hold_ms,
        ),
        candles,
        H,
        finer,
    )
    assert path.filled_at == live.triggered_at
    if live.status is SignalStatus.CLOSED:
        assert path.closed_at == live.closed_at
        assert path.r_multiple() == pytest.approx(live.r_multiple, abs=1e-9)
    elif live.status is SignalStatus.TRIGGERED:
        assert [e.reason for e in path.exits][-1] is ExitReason.END
    else:
        assert path.exits == ()
