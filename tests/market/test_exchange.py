"""The real CCXT client against the simulator: markets, clock, pagination, closed candles."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import ccxt.async_support as ccxt_async
import pytest

from cryptolens.domain.errors import ExchangeError, UnknownSymbolError, ValidationError
from cryptolens.market.ccxt_setup import create_ccxt_exchange, point_api_at
from cryptolens.market.exchange import (
    ExchangeClient,
    FetchRequest,
    FetchResult,
    fetch_many_sync,
)
from cryptolens.market.simulator import Dataset, SimulatorServer
from cryptolens.market.simulator.klines import compute_klines
from tests.builders.market import (
    DAY,
    MINUTE,
    T0,
    FakeClock,
    SimFactory,
    client_for,
    drop_rows,
    exact_dataset,
    source_slice,
)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


T = TypeVar("T")


@pytest.fixture
def sim(make_sim: SimFactory, minute_data: Dataset) -> SimulatorServer:
    """BTC/USDT and ETH/USDT 1m history, market frozen at the end of it."""
    return make_sim(
        {"BTC/USDT": minute_data, "ETH/USDT": exact_dataset(len(minute_data), seed=2)},
        start_at_ms=minute_data.last_open_ms + MINUTE,
    )


def test_every_api_url_points_at_the_simulator_and_markets_load_through_it(
    sim: SimulatorServer,
) -> None:
    async def scenario() -> None:
        async with client_for(sim.base_url) as client:
            api = client.exchange.urls["api"]
            assert all(url.startswith(sim.base_url + "/") for url in api.values())
            assert api["public"] == f"{sim.base_url}/api/v3"
            markets = await client.load_markets()
            assert set(markets) == {"BTC/USDT", "ETH/USDT"}
            btc = markets["BTC/USDT"]
            assert (btc.market_id, btc.base, btc.quote, btc.spot, btc.active) == (
                "BTCUSDT",
                "BTC",
                "USDT",
                True,
                True,
            )

    run(scenario())
    assert sim.stats().by_endpoint == {"exchangeInfo": 1}


def test_point_api_at_rewrites_nested_urls_and_keeps_their_paths() -> None:
    urls = {"public": "https://api.x.com/api/v3", "nested": {"a": "https://f.x.com/fapi/v1"}}
    assert point_api_at(urls, "http://127.0.0.1:9/") == {
        "public": "http://127.0.0.1:9/api/v3",
        "nested": {"a": "http://127.0.0.1:9/fapi/v1"},
    }


def test_closing_a_client_does_not_wait_a_quarter_second() -> None:
    # CCXT's default is a 250 ms sleep in close(), paid once per per-symbol scan job.
    exchange = create_ccxt_exchange("binance", api_url="http://127.0.0.1:9")
    assert exchange.timeout_on_exit == 0
    explicit = create_ccxt_exchange("binance", config={"timeout_on_exit": 100})
    assert explicit.timeout_on_exit == 100
    run(exchange.close())
    run(explicit.close())


def test_markets_are_loaded_once_and_shared_by_every_symbol(sim: SimulatorServer) -> None:
    since = sim.now_ms() - 10 * MINUTE
    requests = [FetchRequest("BTC/USDT", "1m", since), FetchRequest("ETH/USDT", "5m", since)]

    async def scenario() -> None:
        async with client_for(sim.base_url) as client:
            await client.fetch_many(requests)
            await client.fetch_many(requests)
            await client.fetch_closed_candles("BTC/USDT", "1m", since)

    run(scenario())
    assert sim.stats().by_endpoint["exchangeInfo"] == 1


def test_exchange_now_is_the_simulated_clock_not_the_wall_clock(sim: SimulatorServer) -> None:
    async def scenario() -> int:
        async with client_for(sim.base_url) as client:
            return await client.exchange_now_ms()

    assert run(scenario()) == sim.now_ms()
    assert abs(sim.now_ms() - time.time() * 1000) > 100 * DAY


def test_pagination_over_many_pages_returns_exactly_the_source(
    sim: SimulatorServer, minute_data: Dataset
) -> None:
    async def scenario() -> FetchResult:
        async with client_for(sim.base_url, page_limit=50) as client:
            return await client.fetch_closed_candles("BTC/USDT", "1m", T0)

    result = run(scenario())
    assert result.candles.same_as(source_slice(minute_data, T0, sim.now_ms()))
    assert len(result.candles) == len(minute_data) == 2880
    assert result.pages == result.requests == 2880 // 50 + 1
    assert (result.complete, result.retries, result.refetches, dict(result.rejects)) == (
        True,
        0,
        0,
        {},
    )
    assert result.next_since_ms == sim.now_ms()


def test_until_is_exclusive_and_since_rounds_up_to_the_next_boundary(
    sim: SimulatorServer, minute_data: Dataset
) -> None:
    async def scenario() -> FetchResult:
        async with client_for(sim.base_url) as client:
            return await client.fetch_closed_candles(
                "BTC/USDT", "1m", T0 + 10 * MINUTE + 1, T0 + 20 * MINUTE
            )

    result = run(scenario())
    assert result.candles.same_as(source_slice(minute_data, T0 + 11 * MINUTE, T0 + 20 * MINUTE))
    assert result.end_ms == T0 + 20 * MINUTE


def test_coarser_timeframes_come_back_as_the_exchange_resampled_them(
    sim: SimulatorServer, minute_data: Dataset
) -> None:
    async def scenario() -> FetchResult:
        async with client_for(sim.base_url, page_limit=40) as client:
            return await client.fetch_closed_candles("BTC/USDT", "15m", T0)

    result = run(scenario())
    bars = compute_klines(
        minute_data, "15m", start_ms=T0, end_ms=None, limit=1000, now_ms=sim.now_ms()
    )
    assert len(result.candles) == len(bars) == 2880 // 15
    assert result.candles.open_time.tolist() == bars.open_time.tolist()
    assert result.candles.close.tolist() == bars.close.tolist()
    assert result.pages == 5


def test_no_forming_candle_is_ever_returned_while_the_market_moves(
    make_sim: SimFactory, minute_data: Dataset
) -> None:
    # Every read of the simulator's clock moves the market on 13.7 s, so candles close (and
    # form) between any two requests, at boundaries that drift: the same run every time.
    wall = FakeClock(tick=0.0137)
    sim = make_sim(
        {"BTC/USDT": minute_data}, start_at_ms=T0 + 100 * MINUTE + 7_000, speed=1000, wall=wall
    )

    async def scenario() -> tuple[int, int]:
        fetched = forming_seen = 0
        async with client_for(sim.base_url) as client:
            for _ in range(40):
                result = await client.fetch_closed_candles("BTC/USDT", "1m", T0)
                last_open = int(result.candles.open_time[-1])
                assert last_open + MINUTE <= result.now_ms
                # Every candle equals its final source value: a forming one would differ.
                assert result.candles.same_as(source_slice(minute_data, T0, last_open + MINUTE))
                raw = await client.exchange.fetch_ohlcv("BTC/USDT", "1m", limit=1)
                forming_seen += raw[-1][4] != minute_data.close[minute_data.index_of(raw[-1][0])]
                fetched += 1
        return fetched, forming_seen

    fetched, forming_seen = run(scenario())
    assert fetched == 40
    assert forming_seen >= 1  # the exchange did serve forming candles the client refused


def test_a_revised_candle_is_returned_by_the_next_fetch(
    sim: SimulatorServer, minute_data: Dataset
) -> None:
    since = sim.now_ms() - 30 * MINUTE
    revised_at = since + 5 * MINUTE
    i = minute_data.index_of(revised_at)
    new_high, new_close = float(minute_data.high[i]) + 10.0, float(minute_data.low[i])

    async def scenario() -> tuple[FetchResult, FetchResult]:
        async with client_for(sim.base_url) as client:
            before = await client.fetch_closed_candles("BTC/USDT", "1m", since)
            sim.revise_candle("BTC/USDT", revised_at, close=new_close, high=new_high)
            after = await client.fetch_closed_candles("BTC/USDT", "1m", since)
            return before, after

    before, after = run(scenario())
    assert before.candles.close[5] == minute_data.close[i]
    assert after.candles.open_time[5] == revised_at
    assert (after.candles.close[5], after.candles.high[5]) == (new_close, new_high)


def test_an_unlisted_symbol_is_unknown_without_asking_for_candles(sim: SimulatorServer) -> None:
    async def scenario() -> None:
        async with client_for(sim.base_url) as client:
            with pytest.raises(UnknownSymbolError, match="DOGE/USDT"):
                await client.fetch_closed_candles("DOGE/USDT", "1m", T0)

    run(scenario())
    assert "klines" not in sim.stats().by_endpoint


def test_a_symbol_delisted_after_markets_loaded_is_reported_unknown_and_others_go_on(
    sim: SimulatorServer, minute_data: Dataset
) -> None:
    since = sim.now_ms() - 20 * MINUTE
    btc, eth = FetchRequest("BTC/USDT", "1m", since), FetchRequest("ETH/USDT", "1m", since)

    async def scenario() -> dict[FetchRequest, object]:
        async with client_for(sim.base_url) as client:
            await client.load_markets()
            sim.delist_symbol("ETH/USDT")  # the exchange now answers -1121 for it
            return dict(await client.fetch_many([btc, eth]))

    results = run(scenario())
    assert isinstance(results[eth], UnknownSymbolError)
    assert isinstance(results[btc], FetchResult)
    assert results[btc].candles.same_as(source_slice(minute_data, since, sim.now_ms()))


def test_binanceus_shares_the_binance_api_and_works_against_the_simulator(
    sim: SimulatorServer, minute_data: Dataset
) -> None:
    async def scenario() -> FetchResult:
        async with client_for(sim.base_url, "binanceus", page_limit=500) as client:
            assert client.exchange.urls["api"]["public"] == f"{sim.base_url}/api/v3"
            return await client.fetch_closed_candles("BTC/USDT", "1m", T0)

    result = run(scenario())
    assert result.candles.same_as(source_slice(minute_data, T0, sim.now_ms()))


def test_real_gaps_are_skipped_and_a_short_last_page_is_confirmed_once(
    make_sim: SimFactory,
) -> None:
    data = exact_dataset(600)
    holey = drop_rows(data, [int(t) for t in data.open_time[200:230]])
    # The market clock is 10 minutes past the data: the exchange stopped trading then.
    sim = make_sim({"BTC/USDT": holey}, start_at_ms=T0 + 610 * MINUTE)

    async def scenario() -> FetchResult:
        async with client_for(sim.base_url, page_limit=100) as client:
            return await client.fetch_closed_candles("BTC/USDT", "1m", T0)

    result = run(scenario())
    assert result.candles.same_as(source_slice(holey, T0, T0 + 600 * MINUTE))
    assert result.complete
    # A hole followed by data fills its page from behind, so costs nothing; the last page
    # comes back 10 short and is believed once a second answer agrees.
    assert (result.confirmed_gaps, result.refetches) == (1, 1)
    assert result.next_since_ms == T0 + 600 * MINUTE


def test_history_starting_after_since_begins_at_the_first_candle(make_sim: SimFactory) -> None:
    data = exact_dataset(300, start_ms=T0 + 30 * DAY)
    sim = make_sim({"BTC/USDT": data}, start_at_ms=data.last_open_ms + MINUTE)

    async def scenario() -> FetchResult:
        async with client_for(sim.base_url) as client:
            return await client.fetch_closed_candles("BTC/USDT", "1m", T0)

    result = run(scenario())
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert result.requests <= 3


def test_nothing_to_fetch_yet_gives_an_empty_complete_result(sim: SimulatorServer) -> None:
    async def scenario() -> FetchResult:
        async with client_for(sim.base_url) as client:
            return await client.fetch_closed_candles("BTC/USDT", "1h", sim.now_ms() - MINUTE)

    result = run(scenario())
    assert (len(result.candles), result.complete, result.requests) == (0, True, 0)


def test_bad_timeframes_and_exchange_ids_are_validation_errors(sim: SimulatorServer) -> None:
    with pytest.raises(ValidationError, match="exchange id"):
        ExchangeClient("nosuchexchange")

    async def scenario() -> None:
        async with client_for(sim.base_url) as client:
            with pytest.raises(ValidationError, match="timeframe"):
                await client.fetch_closed_candles("BTC/USDT", "7m", T0)

    run(scenario())


def test_an_exchange_without_the_endpoint_is_a_clear_exchange_error(sim: SimulatorServer) -> None:
    # The simulator serves spot only: a futures-only exchange id gets 404s, not retries.
    async def scenario() -> None:
        async with client_for(sim.base_url, "binanceusdm") as client:
            with pytest.raises(ExchangeError, match="load_markets"):
                await client.load_markets()

    run(scenario())
    assert sim.stats().requests == 1


def test_fetch_many_sync_runs_a_whole_cycle_from_blocking_code(
    sim: SimulatorServer, minute_data: Dataset
) -> None:
    since = sim.now_ms() - 60 * MINUTE
    request = FetchRequest("BTC/USDT", "1m", since)
    results = fetch_many_sync("binance", [request], api_url=sim.base_url, enable_rate_limit=False)
    result = results[request]
    assert isinstance(result, FetchResult)
    assert result.candles.same_as(source_slice(minute_data, since, sim.now_ms()))


def test_ccxt_exchanges_are_closed_with_the_client(sim: SimulatorServer) -> None:
    async def scenario() -> ccxt_async.Exchange:
        async with client_for(sim.base_url) as client:
            await client.load_markets()
            return client.exchange

    exchange = run(scenario())
    assert exchange.session is None
