"""The fast confluence search decides exactly what the dense reference decides: the same drafts,
field for field, on random books, steps and parameters."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cryptolens.domain.enums import Direction
from cryptolens.signals import OPEN_END, SignalParams, Steps, ZoneBook, confluence, find_signals
from tests.signals.reference_confluence import reference_find_signals

TFS = ("1m", "5m", "1h", "4h", "1d")
#: Few distinct values, so prices sit on zone edges and at the proximity limit, and zones tie.
PRICES = (98.0, 99.0, 99.5, 100.0, 100.5, 101.0, 102.0)

#: (tf_index, bullish, low, width, formed_at, lifetime or None for open, strength)
zones = st.lists(
    st.tuples(
        st.integers(0, len(TFS) - 1),
        st.booleans(),
        st.sampled_from(PRICES),
        st.sampled_from((0.0, 0.5, 1.0, 2.0)),
        st.integers(0, 60),
        st.one_of(st.integers(1, 90), st.none(), st.none()),
        st.sampled_from((0.2, 0.5, 0.9)),
    ),
    min_size=6,
    max_size=40,
)
params = st.builds(
    SignalParams,
    min_confluence=st.integers(1, 3),
    require_higher_timeframe=st.booleans(),
    cooldown_ms=st.sampled_from((0, 1, 3, 10, 1_000)),
    proximity=st.sampled_from((0.0, 0.005, 0.01, 0.02)),
)
previous = st.one_of(st.none(), st.integers(-5, 40))


def _book(rows: list[tuple[int, bool, float, float, int, int | None, float]]) -> ZoneBook:
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [[]] * 7
    low = np.array(cols[2], dtype=np.float64)
    formed = np.array(cols[4], dtype=np.int64)
    return ZoneBook(
        # References need not follow the book's order.
        ref=np.arange(len(rows), dtype=np.int64)[::-1].copy(),
        tf_index=np.array(cols[0], dtype=np.int64),
        bullish=np.array(cols[1], dtype=bool),
        zone_low=low,
        zone_high=low + np.array(cols[3], dtype=np.float64),
        formed_at=formed,
        ends_at=np.array(
            [
                OPEN_END if life is None else f + life
                for f, life in zip(cols[4], cols[5], strict=True)
            ],
            dtype=np.int64,
        ),
        strength=np.array(cols[6], dtype=np.float64),
    )


@settings(max_examples=300, deadline=None)
@given(
    rows=zones,
    gaps=st.lists(st.integers(1, 2), min_size=20, max_size=60),
    closes=st.data(),
    p=params,
    last_bull=previous,
    last_bear=previous,
)
def test_find_signals_equals_the_reference(
    rows: list[tuple[int, bool, float, float, int, int | None, float]],
    gaps: list[int],
    closes: st.DataObject,
    p: SignalParams,
    last_bull: int | None,
    last_bear: int | None,
) -> None:
    n = len(gaps)
    # A missing close (NaN) makes no zone actionable.
    prices = closes.draw(st.lists(st.sampled_from((*PRICES, np.nan)), min_size=n, max_size=n))
    steps = Steps(
        time=np.cumsum(gaps).astype(np.int64),
        close=np.array(prices, dtype=np.float64),
        atr=np.linspace(0.5, 2.0, n),
    )
    book = _book(rows)
    last = {Direction.BULLISH: last_bull, Direction.BEARISH: last_bear}
    expected = reference_find_signals(book, steps, TFS, p, last)
    assert find_signals(book, steps, TFS, p, last) == expected
    # Chunks of zones and of (step, zone) pairs change nothing.
    with patch.object(confluence, "_ZONES", 3), patch.object(confluence, "_CHUNK", 5):
        assert find_signals(book, steps, TFS, p, last) == expected
    event(f"signals: {min(len(expected), 3)}{'+' if len(expected) > 3 else ''}")


def test_the_property_spans_several_blocks() -> None:
    # Up to 60 steps against blocks of BLOCK: zones live across block edges are exercised.
    assert confluence.BLOCK < 30
