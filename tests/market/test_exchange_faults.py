"""The real CCXT client against a misbehaving simulator: retries, re-asks, breaker, limits."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from cryptolens.domain.errors import ExchangeError, UnknownSymbolError
from cryptolens.market.exchange import FetchRequest, FetchResult
from cryptolens.market.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    RetriesExhaustedError,
    RetryPolicy,
)
from cryptolens.market.simulator import Dataset, FaultKind, FaultRule, SimulatorServer
from cryptolens.market.validation import RejectReason
from tests.builders.market import (
    MINUTE,
    T0,
    FakeClock,
    SimFactory,
    SleepRecorder,
    client_for,
    exact_dataset,
    source_slice,
)
from tests.builders.metrics import recorded

T = TypeVar("T")
KLINES = frozenset({"klines"})


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def fetch(sim: SimulatorServer, symbol: str = "BTC/USDT", **options: Any) -> FetchResult:
    async def scenario() -> FetchResult:
        async with client_for(sim.base_url, **options) as client:
            return await client.fetch_closed_candles(symbol, "1m", T0)

    return run(scenario())


@pytest.fixture
def data() -> Dataset:
    return exact_dataset(1000)


@pytest.fixture
def sim(make_sim: SimFactory, data: Dataset) -> SimulatorServer:
    return make_sim({"BTC/USDT": data}, start_at_ms=data.last_open_ms + MINUTE)


def every_kind(probability: float) -> list[FaultRule]:
    """One rule per fault kind; rules are tried in turn, so the chance a request suffers
    some fault is 1 - (1 - probability) ** 8."""
    return [
        FaultRule(FaultKind.RATE_LIMIT, probability, retry_after_s=1),
        FaultRule(FaultKind.BAN, probability, retry_after_s=2),
        FaultRule(FaultKind.SERVER_ERROR, probability),
        FaultRule(FaultKind.SLOW, probability, delay_s=0.6),
        FaultRule(FaultKind.DISCONNECT, probability),
        FaultRule(FaultKind.MALFORMED, probability, rows=2),
        FaultRule(FaultKind.DUPLICATE, probability, rows=3),
        FaultRule(FaultKind.MISSING, probability, rows=2),
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_with_30_percent_faults_of_every_kind_the_result_equals_the_source(
    make_sim: SimFactory, seed: int
) -> None:
    data = exact_dataset(3000, seed=seed)
    sim = make_sim({"BTC/USDT": data}, start_at_ms=data.last_open_ms + MINUTE, seed=seed)
    sim.faults.set_rules(every_kind(0.0436))  # 1 - 0.9564**8 = 30%
    sleep = SleepRecorder()
    result = fetch(
        sim,
        page_limit=100,
        timeout_ms=250,
        sleep=sleep,
        breaker=CircuitBreaker("sim", failure_threshold=8),
    )
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert result.complete
    stats = sim.stats()
    assert 0.2 <= sum(stats.faults.values()) / stats.requests <= 0.45
    assert set(stats.faults) >= {"rate_limit", "server_error", "missing", "duplicate", "malformed"}
    assert result.retries > 0
    assert result.refetches > 0
    assert result.rejects.get(RejectReason.DUPLICATE, 0) > 0


def test_many_symbols_under_faults_all_come_back_exact(make_sim: SimFactory) -> None:
    datasets = {f"C{i}/USDT": exact_dataset(600, seed=10 + i) for i in range(6)}
    sim = make_sim(datasets, start_at_ms=T0 + 600 * MINUTE, seed=3)
    sim.faults.set_rules(every_kind(0.0436))
    requests = [FetchRequest(symbol, "1m", T0) for symbol in datasets]

    async def scenario() -> dict[FetchRequest, object]:
        async with client_for(
            sim.base_url,
            page_limit=100,
            timeout_ms=250,
            max_concurrency=4,
            breaker=CircuitBreaker("sim", failure_threshold=10),
        ) as client:
            return dict(await client.fetch_many(requests))

    results = run(scenario())
    for request in requests:
        result = results[request]
        assert isinstance(result, FetchResult), result
        assert result.candles.same_as(source_slice(datasets[request.symbol], T0, sim.now_ms()))


def test_a_429_retry_after_hint_sets_the_backoff(sim: SimulatorServer, data: Dataset) -> None:
    sim.faults.set_rules(
        [FaultRule(FaultKind.RATE_LIMIT, count=1, retry_after_s=4, endpoints=KLINES)]
    )
    sleep = SleepRecorder()
    result = fetch(sim, sleep=sleep, retry=RetryPolicy(base_delay_s=0.01))
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert sleep.delays == [4.0]
    assert result.retries == 1


def test_a_418_ban_is_retried_after_its_hint(sim: SimulatorServer, data: Dataset) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.BAN, count=1, retry_after_s=9)])
    sleep = SleepRecorder()
    result = fetch(sim, sleep=sleep, retry=RetryPolicy(base_delay_s=0.01))
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert sleep.delays == [9.0]


def test_an_answer_slower_than_the_timeout_is_abandoned_and_retried(
    sim: SimulatorServer, data: Dataset
) -> None:
    # The slow answer would take a minute: the client cannot have waited for it, and the
    # simulator still holds that request (until it stops) when the retry has been answered.
    sim.faults.set_rules([FaultRule(FaultKind.SLOW, count=1, delay_s=60.0, endpoints=KLINES)])
    result = fetch(sim, timeout_ms=200)
    assert result.retries == 1
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert sim.stats().in_flight == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(sim: SimulatorServer, data: Dataset, status: int) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.SERVER_ERROR, count=2, status=status)])
    result = fetch(sim)
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))


def test_dropped_connections_are_retried(sim: SimulatorServer, data: Dataset) -> None:
    # aiohttp itself re-sends once when a kept-alive connection turns out dead, so it takes
    # two hang-ups in a row before the client's own retry has to step in.
    sim.faults.set_rules([FaultRule(FaultKind.DISCONNECT, count=2, endpoints=KLINES)])
    result = fetch(sim)
    assert sim.stats().faults == {"disconnect": 2}
    assert result.retries >= 1
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))


def test_a_page_missing_candles_is_asked_again_and_completed(
    sim: SimulatorServer, data: Dataset
) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.MISSING, count=1, rows=3)])
    result = fetch(sim, page_limit=200)
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert (result.refetches, result.confirmed_gaps) == (1, 0)


def test_a_page_that_never_comes_back_whole_is_assembled_from_several_answers(
    sim: SimulatorServer, data: Dataset
) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.MISSING, rows=3)])  # every answer loses 3
    result = fetch(sim, page_limit=200)
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert result.refetches >= 5


def test_a_malformed_row_is_rejected_and_its_page_asked_again(
    sim: SimulatorServer, data: Dataset
) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.MALFORMED, count=1, rows=2)])
    result = fetch(sim, page_limit=200)
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert sum(result.rejects.values()) == 2
    assert result.refetches == 1


def test_duplicated_candles_neither_repeat_nor_push_others_off_the_page(
    sim: SimulatorServer, data: Dataset
) -> None:
    # CCXT cuts an answer to `limit` rows, so duplicates push the page's last rows off it.
    sim.faults.set_rules([FaultRule(FaultKind.DUPLICATE, count=1, rows=5)])
    result = fetch(sim, page_limit=200)
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert result.rejects[RejectReason.DUPLICATE] == 5


def test_repeated_rows_in_every_answer_never_pass_for_a_gap(
    sim: SimulatorServer, data: Dataset
) -> None:
    # Every page comes back short (CCXT cuts the repeat-bearing answer to `limit`), and the
    # same way each time: two such answers once counted as an exchange gap and ended paging.
    sim.faults.set_rules([FaultRule(FaultKind.DUPLICATE, rows=3, endpoints=KLINES)])
    result = fetch(sim, page_limit=200)
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))
    assert result.complete
    assert result.confirmed_gaps == 0


def test_the_breaker_opens_fails_fast_and_recovers_after_its_cooldown(
    sim: SimulatorServer, data: Dataset
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("sim", failure_threshold=3, cooldown_s=30, clock=clock)
    sleep = SleepRecorder()

    async def scenario() -> FetchResult:
        async with client_for(
            sim.base_url, breaker=breaker, retry=RetryPolicy(max_attempts=10), sleep=sleep
        ) as client:
            await client.load_markets()
            sim.faults.set_rules([FaultRule(FaultKind.SERVER_ERROR, status=503)])
            with pytest.raises(CircuitOpenError):
                await client.fetch_closed_candles("BTC/USDT", "1m", T0)
            assert breaker.state is CircuitState.OPEN
            assert sim.stats().requests == 1 + 3  # exchangeInfo, then three failures
            slept = list(sleep.delays)
            with pytest.raises(CircuitOpenError, match="open"):
                await client.fetch_closed_candles("BTC/USDT", "1m", T0)
            assert sleep.delays == slept  # failed fast: no backoff sleep...
            assert sim.stats().requests == 4  # ...and the exchange was not called
            clock.now += 31  # half-open: one probe goes out, fails, and re-opens it
            with pytest.raises(CircuitOpenError):
                await client.fetch_closed_candles("BTC/USDT", "1m", T0)
            assert sim.stats().requests == 5
            sim.faults.clear()  # the exchange is back
            clock.now += 31
            return await client.fetch_closed_candles("BTC/USDT", "1m", T0)

    result = run(scenario())
    assert breaker.state is CircuitState.CLOSED
    assert result.candles.same_as(source_slice(data, T0, sim.now_ms()))


def test_a_hundred_symbols_with_limit_eight_never_exceed_eight_in_flight(
    make_sim: SimFactory,
) -> None:
    shared = exact_dataset(60)
    datasets = {f"S{i:03d}/USDT": shared for i in range(100)}
    sim = make_sim(datasets, start_at_ms=T0 + 60 * MINUTE)
    # Every answer takes 150 ms, so requests pile up against the limit and it is exercised.
    sim.faults.set_rules([FaultRule(FaultKind.SLOW, delay_s=0.15)])
    requests = [FetchRequest(symbol, "1m", T0 + 55 * MINUTE) for symbol in datasets]

    async def scenario() -> dict[FetchRequest, object]:
        async with client_for(sim.base_url, max_concurrency=8) as client:
            return dict(await client.fetch_many(requests))

    results = run(scenario())
    # The bound is the property; how close a loaded 2-core machine gets to it is timing.
    assert 4 <= sim.stats().max_in_flight <= 8
    assert sim.stats().by_endpoint["klines"] == 100
    assert all(isinstance(r, FetchResult) and len(r.candles) == 5 for r in results.values())


def test_one_symbols_failure_never_stops_the_others(make_sim: SimFactory) -> None:
    datasets = {f"C{i}/USDT": exact_dataset(100, seed=i) for i in range(5)}
    sim = make_sim(datasets, start_at_ms=T0 + 100 * MINUTE)
    broken = frozenset({"C2/USDT"})
    sim.faults.set_rules([FaultRule(FaultKind.SERVER_ERROR, status=502, symbols=broken)])
    requests = [FetchRequest(symbol, "1m", T0) for symbol in [*datasets, "NOPE/USDT"]]

    async def scenario() -> dict[FetchRequest, object]:
        async with client_for(
            sim.base_url,
            retry=RetryPolicy(max_attempts=3),
            breaker=CircuitBreaker("sim", failure_threshold=50),
        ) as client:
            return dict(await client.fetch_many(requests))

    results = run(scenario())
    for request in requests:
        outcome = results[request]
        if request.symbol == "C2/USDT":
            assert isinstance(outcome, RetriesExhaustedError)
            assert "502" in str(outcome.__cause__) or "ExchangeNotAvailable" in str(outcome)
        elif request.symbol == "NOPE/USDT":
            assert isinstance(outcome, UnknownSymbolError)
        else:
            assert isinstance(outcome, FetchResult)
            assert outcome.candles.same_as(source_slice(datasets[request.symbol], T0, sim.now_ms()))


def test_pages_fetched_before_a_lasting_failure_come_back_marked_incomplete(
    sim: SimulatorServer, data: Dataset
) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.SERVER_ERROR, status=503, after=2, endpoints=KLINES)])
    result = fetch(sim, page_limit=100, retry=RetryPolicy(max_attempts=2))
    assert not result.complete
    assert isinstance(result.error, ExchangeError)
    assert result.candles.same_as(source_slice(data, T0, T0 + 200 * MINUTE))
    assert result.next_since_ms == T0 + 200 * MINUTE


def test_a_failure_before_any_page_is_raised(sim: SimulatorServer) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.SERVER_ERROR, status=503, endpoints=KLINES)])
    with pytest.raises(RetriesExhaustedError):
        fetch(sim, retry=RetryPolicy(max_attempts=2))


def test_when_the_exchange_clock_is_unreachable_every_request_reports_it(
    sim: SimulatorServer,
) -> None:
    sim.faults.set_rules(
        [FaultRule(FaultKind.SERVER_ERROR, status=500, endpoints=frozenset({"time"}))]
    )
    requests = [FetchRequest("BTC/USDT", "1m", T0), FetchRequest("BTC/USDT", "5m", T0)]

    async def scenario() -> dict[FetchRequest, object]:
        async with client_for(sim.base_url, retry=RetryPolicy(max_attempts=2)) as client:
            return dict(await client.fetch_many(requests))

    results = run(scenario())
    assert all(isinstance(results[r], RetriesExhaustedError) for r in requests)
    assert "klines" not in sim.stats().by_endpoint


def test_a_long_ban_is_not_slept_through_but_keeps_every_call_away(
    sim: SimulatorServer,
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("sim", cooldown_s=5, clock=clock)
    sleep = SleepRecorder()

    async def scenario() -> None:
        async with client_for(sim.base_url, breaker=breaker, sleep=sleep) as client:
            await client.load_markets()
            sim.faults.set_rules([FaultRule(FaultKind.BAN, retry_after_s=600)])
            with pytest.raises(RetriesExhaustedError, match="418"):
                await client.fetch_closed_candles("BTC/USDT", "1m", T0)
            clock.now += 300  # well past the breaker's own cooldown, still inside the ban
            with pytest.raises(CircuitOpenError):
                await client.fetch_closed_candles("BTC/USDT", "1m", T0)

    run(scenario())
    assert sleep.delays == []
    assert sim.stats().requests == 2  # exchangeInfo and the one banned request


def test_each_failed_attempt_counts_as_an_exchange_error_by_operation_and_class(
    sim: SimulatorServer, data: Dataset
) -> None:
    sim.faults.set_rules(
        [FaultRule(FaultKind.RATE_LIMIT, count=2, retry_after_s=1, endpoints=KLINES)]
    )
    # CCXT's binance maps a 429 to DDoSProtection; the label is the class it raised.
    labels = {"operation": "fetch_ohlcv", "error": "DDoSProtection"}
    before = recorded("cryptolens_exchange_errors_total", **labels)
    result = fetch(sim, retry=RetryPolicy(base_delay_s=0.01))
    assert result.retries == 2
    assert recorded("cryptolens_exchange_errors_total", **labels) == before + 2
