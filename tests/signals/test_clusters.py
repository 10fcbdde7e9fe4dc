"""One event, one vote: zones that are the same market event on several timeframes cluster and
count once; distinct events count separately; the votes never exceed the timeframes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.signals import OPEN_END, SignalParams, Steps, ZoneBook, find_signals, zone_events

HOUR = 3_600_000
TFS = ("1h", "2h", "4h", "1d")
TF_MS = {"1h": HOUR, "2h": 2 * HOUR, "4h": 4 * HOUR, "1d": 24 * HOUR}
PARAMS = SignalParams(cooldown_ms=0)


def events(*zones: tuple[str, float, float, int]) -> tuple[tuple[tuple[int, ...], ...], int]:
    """Clusters and votes of bullish zones given as (timeframe, low, high, formed_at)."""
    found = zone_events(
        [z[0] for z in zones],
        [True] * len(zones),
        [z[1] for z in zones],
        [z[2] for z in zones],
        [z[3] for z in zones],
    )
    return found.clusters, found.votes


def test_one_sweep_seen_on_1h_2h_and_4h_is_one_event_with_one_vote() -> None:
    # The 1h sweeping candle 02:00-03:00 lies in the 2h candle 02:00-04:00 and the 4h one
    # 00:00-04:00; their ranges overlap.
    assert events(
        ("1h", 99.0, 100.0, 3 * HOUR), ("2h", 98.5, 100.0, 4 * HOUR), ("4h", 98.0, 100.2, 4 * HOUR)
    ) == (((0, 1, 2),), 1)


def test_distinct_events_on_three_timeframes_make_three_votes() -> None:
    # Deciding candles in different windows: 1h closing 05:00 is not in the 4h 00:00-04:00,
    # and the 1d zone formed the day before.
    assert events(
        ("1h", 99.0, 100.0, 5 * HOUR), ("4h", 99.0, 100.0, 4 * HOUR), ("1d", 99.0, 100.0, 0)
    ) == (((0,), (1,), (2,)), 3)


def test_overlapping_ranges_in_different_windows_are_distinct_events() -> None:
    # Same prices, but the 1h candle closing at 00:00 belongs to the previous 4h candle.
    assert events(("1h", 99.0, 100.0, 0), ("4h", 99.0, 100.0, 4 * HOUR)) == (((0,), (1,)), 2)


def test_one_window_with_disjoint_ranges_is_two_events() -> None:
    assert events(("1h", 90.0, 91.0, 4 * HOUR), ("4h", 99.0, 100.0, 4 * HOUR)) == (
        ((0,), (1,)),
        2,
    )


def test_the_last_hour_of_a_4h_candle_is_in_its_window_and_touching_edges_overlap() -> None:
    assert events(("1h", 100.0, 101.0, 4 * HOUR), ("4h", 99.0, 100.0, 4 * HOUR))[1] == 1


def test_a_timeframe_with_an_event_of_its_own_still_votes_beside_a_shared_one() -> None:
    # 1h holds A (shared with 4h) and B (its own): 1h votes for B, 4h for A.
    clusters, votes = events(
        ("1h", 99.0, 100.0, 4 * HOUR), ("4h", 99.0, 100.0, 4 * HOUR), ("1h", 80.0, 81.0, 2 * HOUR)
    )
    assert clusters == ((0, 1), (2,))
    assert votes == 2


def test_zones_linked_through_a_third_are_one_event() -> None:
    # Two 1h zones of different candles, each inside the day's zone: one (daily) event.
    clusters, votes = events(
        ("1h", 99.0, 100.0, 3 * HOUR),
        ("1d", 95.0, 105.0, 24 * HOUR),
        ("1h", 104.0, 106.0, 9 * HOUR),
    )
    assert clusters == ((0, 1, 2),)
    assert votes == 1


def _book(rows: list[tuple[int, float, float, int]]) -> ZoneBook:
    n = len(rows)
    return ZoneBook(
        ref=np.arange(n, dtype=np.int64),
        tf_index=np.array([r[0] for r in rows], dtype=np.int64),
        bullish=np.ones(n, dtype=bool),
        zone_low=np.array([r[1] for r in rows], dtype=np.float64),
        zone_high=np.array([r[2] for r in rows], dtype=np.float64),
        formed_at=np.array([r[3] for r in rows], dtype=np.int64),
        ends_at=np.full(n, OPEN_END, dtype=np.int64),
        strength=np.full(n, 0.5),
    )


def test_the_signal_counts_one_event_once_but_lists_every_timeframe() -> None:
    same = _book([(0, 99.0, 100.0, 3 * HOUR), (1, 98.5, 100.0, 4 * HOUR), (2, 98, 100, 4 * HOUR)])
    at = Steps(np.array([10 * HOUR]), np.array([100.5]), np.array([1.0]))
    assert find_signals(same, at, TFS, PARAMS, {}) == []
    [signal] = find_signals(same, at, TFS, SignalParams(cooldown_ms=0, min_confluence=1), {})
    assert signal.timeframes == ("1h", "2h", "4h")
    assert signal.confluence == 1
    assert signal.clusters == ((0, 1, 2),)
    apart = _book([(0, 99.0, 100.0, 7 * HOUR), (1, 98.5, 100.0, 4 * HOUR), (2, 98, 100, 0)])
    [signal] = find_signals(apart, at, TFS, PARAMS, {})
    assert signal.confluence == 3
    assert signal.clusters == ((0,), (1,), (2,))


zones = st.lists(
    st.tuples(
        st.integers(0, len(TFS) - 1),
        st.sampled_from((97.0, 98.0, 99.0, 100.0)),
        st.sampled_from((0.0, 0.5, 1.5)),
        st.integers(1, 48),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(rows=zones)
def test_votes_never_exceed_the_timeframes_and_equal_them_when_no_window_is_shared(
    rows: list[tuple[int, float, float, int]],
) -> None:
    # Formation times on each timeframe's own grid of candle closes (hours 1..48).
    tfs = [TFS[r[0]] for r in rows]
    formed = [-(-r[3] * HOUR // TF_MS[tf]) * TF_MS[tf] for r, tf in zip(rows, tfs, strict=True)]
    found = zone_events(
        tfs, [True] * len(rows), [r[1] for r in rows], [r[1] + r[2] for r in rows], formed
    )
    assert 1 <= found.votes <= len(set(tfs))
    assert sorted(i for c in found.clusters for i in c) == list(range(len(rows)))
    # Whether any two zones share a window (the longer one's deciding candle holds the other's
    # close), ranges aside: if none do, every cluster is one zone and every timeframe votes.
    shared = any(
        TF_MS[tfs[a]] <= TF_MS[tfs[b]]
        and (a != b)
        and formed[b] - TF_MS[tfs[b]] < formed[a] <= formed[b]
        for a in range(len(rows))
        for b in range(len(rows))
    )
    if not shared:
        assert found.votes == len(set(tfs))
        assert all(len(c) == 1 for c in found.clusters)
