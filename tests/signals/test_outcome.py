"""Outcome tracking: entry, targets, stop, break-even, same-candle rule, expiry, timeout."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction, SignalOutcome, SignalStatus
from cryptolens.signals import Trade, track
from tests.builders.candles import ranges as bars

H = 3_600_000
M = 60_000


def long_trade(**changes: object) -> Trade:
    """Long at 100, stop 90, targets 110/120/130, created at t=0."""
    base = Trade(
        direction=Direction.BULLISH,
        entry=100.0,
        stop=90.0,
        targets=(110.0, 120.0, 130.0),
        created_at=0,
        expires_at=24 * H,
        max_hold_ms=100 * H,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_entry_triggers_then_every_target_is_hit() -> None:
    t = track(long_trade(), bars((105, 101), (104, 99.5), (112, 103), (125, 111), (131, 121)), H)
    assert t.triggered_at == 2 * H  # close of the candle that reached 100
    assert t.status is SignalStatus.CLOSED
    assert t.outcome is SignalOutcome.TP3
    assert t.targets_hit == 3
    assert t.r_multiple == pytest.approx((1 + 2 + 3) / 3)
    assert t.closed_at == 5 * H


def test_a_stop_before_any_target_loses_one_r() -> None:
    t = track(long_trade(), bars((101, 99), (100, 95), (96, 89)), H)
    assert t.outcome is SignalOutcome.STOP
    assert t.r_multiple == pytest.approx(-1.0)
    assert t.closed_at == 3 * H


def test_after_the_first_target_the_stop_moves_to_break_even() -> None:
    t = track(long_trade(), bars((101, 99), (111, 104), (105, 99.9)), H)
    assert t.outcome is SignalOutcome.TP1
    assert t.targets_hit == 1
    assert t.r_multiple == pytest.approx(1 / 3)  # a third at +1R, the rest at break-even


def test_one_candle_through_stop_and_target_counts_the_stop_without_finer_candles() -> None:
    t = track(long_trade(), bars((101, 99), (115, 85)), H)
    assert t.outcome is SignalOutcome.STOP
    assert t.r_multiple == pytest.approx(-1.0)


def test_finer_candles_decide_which_came_first_in_an_ambiguous_candle() -> None:
    # Inside the second hour: up to 115 first (TP1), then down through the stop.
    minutes_up_first = bars((101, 100), (115, 100), (101, 85), start=H, step=20 * M)
    minutes_down_first = bars((101, 85), (115, 100), (101, 100), start=H, step=20 * M)

    def finer(candles: Candles):  # type: ignore[no-untyped-def]
        return lambda open_time, span: (candles, 20 * M) if open_time == H else None

    coarse = bars((101, 99), (115, 85))
    up = track(long_trade(), coarse, H, finer(minutes_up_first))
    down = track(long_trade(), coarse, H, finer(minutes_down_first))
    assert up.outcome is SignalOutcome.TP1
    assert up.r_multiple == pytest.approx(1 / 3)
    assert up.closed_at == H + 3 * 20 * M
    assert down.outcome is SignalOutcome.STOP
    assert down.closed_at == H + 20 * M


def test_a_stop_on_the_entry_candle_is_certain_but_a_target_is_not_counted() -> None:
    stopped = track(long_trade(), bars((102, 88)), H)
    assert stopped.outcome is SignalOutcome.STOP
    not_counted = track(long_trade(), bars((112, 99)), H)
    assert not_counted.status is SignalStatus.TRIGGERED
    assert not_counted.targets_hit == 0


def test_an_entry_never_reached_expires_unfilled_at_the_deadline() -> None:
    t = track(long_trade(expires_at=3 * H), bars(*[(105, 101)] * 5), H)
    assert t.status is SignalStatus.EXPIRED
    assert t.outcome is SignalOutcome.UNFILLED
    assert t.closed_at == 3 * H
    assert t.r_multiple is None


def test_a_trade_open_too_long_times_out_at_the_close() -> None:
    candles = bars((101, 99), *[(106, 104)] * 5)
    t = track(long_trade(max_hold_ms=3 * H), candles, H)
    assert t.outcome is SignalOutcome.TIMEOUT
    assert t.closed_at == 4 * H
    assert t.r_multiple == pytest.approx(0.5)  # closed at 105 with 10 of risk


def test_a_short_trade_mirrors_the_long_rules() -> None:
    short = Trade(
        direction=Direction.BEARISH,
        entry=100.0,
        stop=110.0,
        targets=(90.0, 80.0, 70.0),
        created_at=0,
        expires_at=24 * H,
        max_hold_ms=100 * H,
    )
    t = track(short, bars((101, 99), (96, 89), (85, 79), (101, 81)), H)
    assert t.outcome is SignalOutcome.TP2
    assert t.r_multiple == pytest.approx((1 + 2) / 3)
    assert t.closed_at == 4 * H


def test_candles_before_the_signal_are_ignored() -> None:
    t = track(long_trade(created_at=2 * H), bars((100, 80), (100, 80), (105, 101)), H)
    assert t.status is SignalStatus.PENDING
    assert t.tracked_through == 2 * H


@settings(max_examples=150, deadline=None)
@given(
    moves=st.lists(st.floats(-6, 6, allow_nan=False), min_size=1, max_size=80),
    cuts=st.lists(st.integers(1, 79), max_size=6),
)
def test_tracking_in_pieces_equals_tracking_once(moves: list[float], cuts: list[int]) -> None:
    closes = 103 + np.cumsum(moves)
    highs, lows = closes + 2, closes - 2
    candles = bars(*zip(highs.tolist(), lows.tolist(), strict=True))
    trade = long_trade(max_hold_ms=30 * H, expires_at=40 * H)
    whole = track(trade, candles, H)
    piecewise = trade
    bounds = [0, *sorted(c for c in set(cuts) if c < len(candles)), len(candles)]
    for a, b in itertools.pairwise(bounds):
        piecewise = track(piecewise, candles[a:b], H)
    assert piecewise == whole
