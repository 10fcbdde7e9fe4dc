"""Confluence counting, the proximity rule, conflicts, the HTF requirement and cooldown."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from cryptolens.signals import OPEN_END, SignalParams, Steps, ZoneBook, find_signals

TFS = ("1h", "4h", "1d")
HOUR = 3_600_000
PARAMS = SignalParams(cooldown_ms=0)
#: Formation times whose deciding candles share no window (1h, 4h, 1d at 0): each zone formed
#: at them is an event of its own, so every timeframe votes (issue 20).
APART_1H, APART_4H = -25 * HOUR, -48 * HOUR
APART = (APART_1H, APART_4H, 0)


def book(*zones: tuple[int, bool, float, float, int, int, float]) -> ZoneBook:
    """Zones as (tf_index, bullish, low, high, formed_at, ends_at, strength)."""
    cols = list(zip(*zones, strict=True)) if zones else [[]] * 7
    return ZoneBook(
        ref=np.arange(len(zones), dtype=np.int64),
        tf_index=np.array(cols[0], dtype=np.int64),
        bullish=np.array(cols[1], dtype=bool),
        zone_low=np.array(cols[2], dtype=np.float64),
        zone_high=np.array(cols[3], dtype=np.float64),
        formed_at=np.array(cols[4], dtype=np.int64),
        ends_at=np.array(cols[5], dtype=np.int64),
        strength=np.array(cols[6], dtype=np.float64),
    )


def steps(*prices: float, start: int = 10 * HOUR, atr: float = 2.0) -> Steps:
    n = len(prices)
    return Steps(
        time=start + HOUR * np.arange(n, dtype=np.int64),
        close=np.array(prices, dtype=np.float64),
        atr=np.full(n, atr),
    )


def run(b: ZoneBook, s: Steps, params: SignalParams = PARAMS, last=None):  # type: ignore[no-untyped-def]
    return find_signals(b, s, TFS, params, last or {})


def test_two_timeframes_with_aligned_zones_near_price_make_a_bullish_signal() -> None:
    zones = book(
        (0, True, 95.0, 99.0, APART_1H, OPEN_END, 0.4),
        (1, True, 97.0, 99.5, APART_4H, OPEN_END, 0.8),
    )
    [signal] = run(zones, steps(100.0))
    assert signal.direction is Direction.BULLISH
    assert signal.timeframes == ("1h", "4h")
    assert signal.confluence == 2
    assert signal.zone_refs == (0, 1)
    assert signal.score == pytest.approx((0.4 + 0.8) / 2)
    # Entry at the nearest zone's near edge: the 4h zone's top, 0.5 below price.
    assert signal.entry_ref == 1
    assert signal.levels.entry == 99.5


def test_each_timeframe_counts_once_however_many_zones_it_has() -> None:
    zones = book(
        (0, True, 95.0, 99.0, APART_1H, OPEN_END, 0.5),
        (0, True, 96.0, 99.8, APART_1H, OPEN_END, 0.5),
        (0, True, 97.0, 99.9, APART_1H, OPEN_END, 0.5),
    )
    assert run(zones, steps(100.0)) == []
    assert len(run(zones, steps(100.0), replace(PARAMS, min_confluence=1))) == 1


def test_zones_too_far_below_or_already_traded_through_do_not_count() -> None:
    far = book(
        (0, True, 90.0, 98.9, APART_1H, OPEN_END, 0.5),  # 1.1 % below: beyond 1 % proximity
        (1, True, 97.0, 99.5, APART_4H, OPEN_END, 0.5),
    )
    assert run(far, steps(100.0)) == []
    through = book(
        (0, True, 101.0, 103.0, APART_1H, OPEN_END, 0.5),  # price is below a bullish zone
        (1, True, 97.0, 99.5, APART_4H, OPEN_END, 0.5),
    )
    assert run(through, steps(100.0)) == []


def test_zones_count_only_between_formation_and_their_end() -> None:
    t = 10 * HOUR
    zones = book(
        (0, True, 97.0, 99.5, t + HOUR, OPEN_END, 0.5),  # known from the second step
        (1, True, 97.0, 99.5, APART_4H, t + 2 * HOUR, 0.5),  # filled at the third step
    )
    found = run(zones, steps(100.0, 100.0, 100.0, 100.0))
    assert [s.created_at for s in found] == [t + HOUR]


def test_bearish_zones_above_price_make_a_bearish_signal_with_mirrored_levels() -> None:
    zones = book(
        (0, False, 100.5, 103.0, APART_1H, OPEN_END, 0.5),
        (2, False, 100.8, 104.0, 0, OPEN_END, 0.5),
    )
    [signal] = run(zones, steps(100.0, atr=2.0))
    lv = signal.levels
    assert signal.direction is Direction.BEARISH
    assert lv.entry == 100.5
    assert lv.stop == pytest.approx(103.0 + 2.0)  # far edge + 1 x ATR
    risk = lv.stop - lv.entry
    assert lv.targets == pytest.approx((100.5 - risk, 100.5 - 2 * risk, 100.5 - 3 * risk))
    assert lv.risk_reward == pytest.approx(3.0)


def test_the_stop_buffer_never_falls_below_the_minimum_fraction() -> None:
    zones = book(
        (0, True, 97.0, 99.5, APART_1H, OPEN_END, 0.5),
        (1, True, 97.0, 99.0, APART_4H, OPEN_END, 0.5),
    )
    [signal] = run(zones, steps(100.0, atr=0.001), replace(PARAMS, stop_min_fraction=0.01))
    assert signal.levels.stop == pytest.approx(97.0 - 0.01 * 99.5)


def test_equal_confluence_in_both_directions_is_a_conflict_and_more_wins() -> None:
    both = book(
        (0, True, 97.0, 99.5, APART_1H, OPEN_END, 0.5),
        (1, True, 97.0, 99.5, APART_4H, OPEN_END, 0.5),
        (0, False, 100.5, 102.0, APART_1H, OPEN_END, 0.5),
        (1, False, 100.5, 102.0, APART_4H, OPEN_END, 0.5),
    )
    assert run(both, steps(100.0)) == []
    more_bearish = book(*[(i, False, 100.5, 102.0, APART[i], OPEN_END, 0.5) for i in range(3)][:3])
    mixed = book(
        (0, True, 97.0, 99.5, APART_1H, OPEN_END, 0.5),
        (1, True, 97.0, 99.5, APART_4H, OPEN_END, 0.5),
        *[(i, False, 100.5, 102.0, APART[i], OPEN_END, 0.5) for i in range(3)],
    )
    assert len(run(more_bearish, steps(100.0))) == 1
    [winner] = run(mixed, steps(100.0))
    assert winner.direction is Direction.BEARISH


def test_the_higher_timeframe_requirement_needs_a_4h_or_1d_zone() -> None:
    low_only = book((0, True, 97.0, 99.5, APART_1H, OPEN_END, 0.5))
    with_daily = book(
        (0, True, 97.0, 99.5, APART_1H, OPEN_END, 0.5), (2, True, 96, 99, 0, OPEN_END, 0.5)
    )
    strict = replace(PARAMS, require_higher_timeframe=True, min_confluence=1)
    assert run(low_only, steps(100.0), strict) == []
    assert len(run(with_daily, steps(100.0), strict)) == 1


def test_cooldown_suppresses_repeats_per_direction_and_honours_the_previous_signal() -> None:
    zones = book(
        (0, True, 97.0, 99.5, APART_1H, OPEN_END, 0.5),
        (1, True, 96.0, 99.0, APART_4H, OPEN_END, 0.5),
    )
    prices = [100.0] * 10
    cooled = replace(PARAMS, cooldown_ms=4 * HOUR)
    times = [s.created_at for s in run(zones, steps(*prices), cooled)]
    assert times == [10 * HOUR, 14 * HOUR, 18 * HOUR]
    # A signal stored 2 h before the first step delays the next one to 2 h in.
    last = {Direction.BULLISH: 8 * HOUR}
    times = [s.created_at for s in run(zones, steps(*prices), cooled, last)]
    assert times == [12 * HOUR, 16 * HOUR]
    # The other direction's cooldown does not apply.
    times = [
        s.created_at for s in run(zones, steps(*prices), cooled, {Direction.BEARISH: 9 * HOUR})
    ]
    assert times[0] == 10 * HOUR


def test_evaluation_is_the_same_in_one_batch_or_step_by_step() -> None:
    rng = np.random.default_rng(7)
    zones = []
    for i in range(300):
        low = 90 + rng.random() * 20
        formed = int(rng.integers(0, 400)) * HOUR
        ends = formed + int(rng.integers(1, 60)) * HOUR
        zones.append((i % 3, bool(i % 2), low, low + rng.random() * 3, formed, ends, rng.random()))
    b = book(*zones)
    prices = 100 + np.cumsum(rng.normal(0, 0.5, 400))
    s = steps(*prices.tolist(), start=0)
    cooled = replace(PARAMS, cooldown_ms=3 * HOUR)
    whole = run(b, s, cooled)
    pieces = []
    last: dict[Direction, int | None] = {}
    for begin in range(0, 400, 7):
        part = Steps(
            s.time[begin : begin + 7], s.close[begin : begin + 7], s.atr[begin : begin + 7]
        )
        found = run(b, part, cooled, dict(last))
        for signal in found:
            last[signal.direction] = signal.created_at
        pieces.extend(found)
    assert len(whole) > 10
    assert pieces == whole


@pytest.mark.parametrize("tf_index", [-1, len(TFS)])
def test_a_zone_of_an_unknown_timeframe_is_a_clear_error(tf_index: int) -> None:
    zones = book(
        (0, True, 95.0, 99.0, 0, OPEN_END, 0.4), (tf_index, True, 97.0, 99.5, 0, OPEN_END, 0.8)
    )
    with pytest.raises(ValidationError, match="tf_index"):
        run(zones, steps(100.0))
