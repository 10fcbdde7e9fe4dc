"""The in-place fold of ``track`` ends exactly where the immutable reference fold ends: same
status, outcome, times, targets hit, R and ``tracked_through``, also across successive scans
and with finer candles settling a candle."""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction
from cryptolens.signals import Trade, track
from tests.builders.candles import ranges
from tests.signals.reference_outcome import reference_track

H = 3_600_000
M = 60_000


def _finer(hours: Candles) -> dict[int, Candles]:
    """Three 20-minute candles per hour spanning its range, high first or low first."""
    out = {}
    for i, (t, high, low) in enumerate(
        zip(hours.open_time.tolist(), hours.high.tolist(), hours.low.tolist(), strict=True)
    ):
        mid = (high + low) / 2
        rows = [(high, mid), (mid, low)] if i % 2 else [(mid, low), (high, mid)]
        out[t] = ranges(*rows, (mid, mid), start=t, step=20 * M)
    return out


@settings(max_examples=300, deadline=None)
@given(
    moves=st.lists(st.floats(-4, 4, allow_nan=False), min_size=1, max_size=120),
    bullish=st.booleans(),
    offset=st.floats(-6, 6),
    created=st.integers(0, 4),
    hold=st.integers(1, 60),
    ttl=st.integers(1, 30),
    split=st.integers(0, 120),
    with_finer=st.booleans(),
    spread=st.sampled_from((2.0, 5.0, 7.0)),
)
def test_track_equals_the_reference(
    moves: list[float],
    bullish: bool,
    offset: float,
    created: int,
    hold: int,
    ttl: int,
    split: int,
    with_finer: bool,
    spread: float,
) -> None:
    closes = 100 + np.cumsum(moves)
    candles = ranges(*zip((closes + spread).tolist(), (closes - spread).tolist(), strict=True))
    sign = 1.0 if bullish else -1.0
    price = 100 + offset
    trade = Trade(
        direction=Direction.BULLISH if bullish else Direction.BEARISH,
        entry=price,
        stop=price - sign * 5,
        targets=(price + sign * 4, price + sign * 8, price + sign * 12),
        created_at=created * H,
        expires_at=created * H + ttl * H,
        max_hold_ms=hold * H,
    )
    finer = None
    if with_finer:
        inner = _finer(candles)

        def finer(open_time: int, span: int) -> tuple[Candles, int] | None:
            return (inner[open_time], 20 * M) if open_time in inner and span == H else None

    # Two scans: the first sees the candles up to ``split``, the second all of them.
    head = candles[: min(split, len(candles))]
    mine = track(track(trade, head, H, finer), candles, H, finer)
    expected = reference_track(reference_track(trade, head, H, finer), candles, H, finer)
    assert mine == expected
    event(f"{expected.status.value} {expected.outcome and expected.outcome.value}")
