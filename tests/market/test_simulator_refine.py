"""Sub-candles synthesised inside coarse history (how the hourly demo serves a 1m feed)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.market.exchange import FetchResult
from cryptolens.market.simulator import Dataset, build_demo_server, compute_klines
from cryptolens.market.simulator.refine import refine
from cryptolens.market.validation import validate_ohlcv
from tests.builders.market import DAY, HOUR, MINUTE, T0, SimFactory, client_for, exact_dataset


def regroup(fine: Dataset, coarse_step: int) -> dict[int, tuple[float, ...]]:
    out: dict[int, tuple[float, ...]] = {}
    starts = fine.open_time - fine.open_time % coarse_step
    for start in np.unique(starts):
        m = starts == start
        out[int(start)] = (
            float(fine.open[m][0]),
            float(fine.high[m].max()),
            float(fine.low[m].min()),
            float(fine.close[m][-1]),
            float(fine.volume[m].sum()),
        )
    return out


def test_sub_candles_regroup_into_exactly_the_coarse_candles() -> None:
    hourly = exact_dataset(48, step_ms=HOUR)
    fine = refine(hourly, MINUTE, T0, T0 + 48 * HOUR - 1)
    assert len(fine) == 48 * 60
    rows = [list(fine.row(i)) for i in range(len(fine))]
    assert validate_ohlcv(rows, "1m").rejected == 0
    for i, (start, values) in enumerate(sorted(regroup(fine, HOUR).items())):
        assert start == hourly.open_time[i]
        assert values[:4] == (hourly.open[i], hourly.high[i], hourly.low[i], hourly.close[i])
        assert values[4] == pytest.approx(hourly.volume[i], rel=1e-12)


def test_sub_candles_do_not_depend_on_the_window_asked_for() -> None:
    hourly = exact_dataset(10, step_ms=HOUR)
    wide = refine(hourly, MINUTE, T0, T0 + 10 * HOUR - 1)
    narrow = refine(hourly, MINUTE, T0 + 3 * HOUR + 5 * MINUTE, T0 + 4 * HOUR)
    i = wide.index_of(int(narrow.open_time[0]))
    assert narrow.open_time[0] == T0 + 3 * HOUR  # whole coarse candles are refined
    assert np.array_equal(narrow.close, wide.close[i : i + len(narrow)])
    assert not np.array_equal(wide.close[:60], wide.close[60:120])  # not one repeated shape


@given(
    st.floats(10, 1000),
    st.floats(0, 0.2),
    st.floats(0, 0.2),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 100),
)
def test_every_sub_candle_is_valid_for_any_valid_coarse_candle(
    mid: float, up: float, down: float, o_at: float, c_at: float, volume: float
) -> None:
    low, high = mid * (1 - down), mid * (1 + up)
    o, c = low + (high - low) * o_at, low + (high - low) * c_at
    coarse = Dataset.from_arrays([T0], [o], [high], [low], [c], [volume], step_ms=HOUR)
    fine = refine(coarse, MINUTE, T0, T0)
    rows = [list(fine.row(i)) for i in range(len(fine))]
    assert validate_ohlcv(rows, "1m").rejected == 0
    (values,) = regroup(fine, HOUR).values()
    assert values[:4] == (o, high, low, c)


def test_a_synthesising_server_serves_1m_from_hourly_history(make_sim: SimFactory) -> None:
    hourly = exact_dataset(24, step_ms=HOUR)
    sim = make_sim(
        {"BTC/USDT": hourly}, start_at_ms=T0 + 5 * HOUR + 30 * MINUTE, synthesize_finer=True
    )

    async def scenario() -> tuple[FetchResult, FetchResult]:
        async with client_for(sim.base_url) as client:
            minutes = await client.fetch_closed_candles("BTC/USDT", "1m", T0)
            hours = await client.fetch_closed_candles("BTC/USDT", "1h", T0)
            return minutes, hours

    minutes, hours = asyncio.run(scenario())
    assert len(minutes.candles) == 5 * 60 + 30
    assert hours.candles.open_time.tolist() == [T0 + h * HOUR for h in range(5)]
    assert hours.candles.high.tolist() == hourly.high[:5].tolist()
    first_hour = minutes.candles.take(minutes.candles.open_time < T0 + HOUR)
    assert float(first_hour.high.max()) == hourly.high[0]
    assert float(first_hour.close[-1]) == hourly.close[0]


def test_intervals_between_synthesised_and_real_steps_agree() -> None:
    daily = exact_dataset(3, step_ms=DAY)
    now = T0 + 3 * DAY
    h4 = compute_klines(daily, "4h", start_ms=T0, end_ms=None, limit=100, now_ms=now, refine_seed=0)
    m1 = compute_klines(
        daily, "1m", start_ms=T0, end_ms=T0 + 4 * HOUR - 1, limit=1000, now_ms=now, refine_seed=0
    )
    assert len(h4) == 18
    assert float(h4.high[0]) == float(m1.high[:240].max())
    assert float(h4.close[0]) == float(m1.close[239])


def test_the_demo_serves_the_default_1m_btc_usdt_feed() -> None:
    with build_demo_server(speed=0) as sim:

        async def scenario() -> FetchResult:
            async with client_for(sim.base_url) as client:
                return await client.fetch_closed_candles("BTC/USDT", "1m", sim.now_ms() - DAY)

        result = asyncio.run(scenario())
    assert len(result.candles) == 24 * 60
    assert result.complete
