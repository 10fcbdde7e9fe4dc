"""Backoff arithmetic, the retry loop and the circuit breaker, on injected time."""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import formatdate

import pytest

from cryptolens.domain.errors import ExchangeError
from cryptolens.market.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    RetriesExhaustedError,
    RetryPolicy,
    Transient,
    call_with_retry,
    parse_retry_after,
)
from tests.builders.market import FakeClock, SleepRecorder


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


def classify(exc: BaseException) -> Transient | None:
    if isinstance(exc, Flaky):
        return Transient(getattr(exc, "hint", None))
    return None


def failing(times: int, error: Exception, result: str = "ok"):
    calls = {"n": 0}

    async def operation() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return result

    return operation, calls


def test_backoff_doubles_until_the_cap_without_jitter() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0, multiplier=2.0, jitter=0.0)
    rng = random.Random(1)
    assert [policy.delay_s(n, rng) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_only_shortens_a_delay_and_by_at_most_its_fraction() -> None:
    policy = RetryPolicy(base_delay_s=1.0, jitter=0.5)
    rng = random.Random(7)
    delays = [policy.delay_s(1, rng) for _ in range(200)]
    assert all(0.5 <= d <= 1.0 for d in delays)
    assert len(set(delays)) > 100  # really random, so clients spread out


def test_a_server_retry_hint_wins_over_a_shorter_backoff_but_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.1, jitter=0.0, max_hint_s=10.0)
    rng = random.Random(0)
    assert policy.delay_s(1, rng, hint_s=3.0) == 3.0
    assert policy.delay_s(1, rng, hint_s=500.0) == 10.0


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.5)


def test_transient_failures_are_retried_until_success_with_recorded_sleeps() -> None:
    operation, calls = failing(2, Flaky())
    sleep = SleepRecorder()
    policy = RetryPolicy(base_delay_s=1.0, jitter=0.0)
    result = asyncio.run(call_with_retry(operation, policy=policy, classify=classify, sleep=sleep))
    assert result == "ok"
    assert calls["n"] == 3
    assert sleep.delays == [1.0, 2.0]


def test_a_permanent_failure_is_raised_at_once() -> None:
    operation, calls = failing(5, Fatal("bad request"))
    sleep = SleepRecorder()
    with pytest.raises(Fatal):
        asyncio.run(
            call_with_retry(operation, policy=RetryPolicy(), classify=classify, sleep=sleep)
        )
    assert calls["n"] == 1
    assert sleep.delays == []


def test_exhausted_retries_raise_an_exchange_error_caused_by_the_last_failure() -> None:
    error = Flaky("still down")
    operation, calls = failing(10, error)
    policy = RetryPolicy(max_attempts=3, jitter=0.0)
    with pytest.raises(RetriesExhaustedError) as caught:
        asyncio.run(
            call_with_retry(operation, policy=policy, classify=classify, sleep=SleepRecorder())
        )
    assert isinstance(caught.value, ExchangeError)
    assert caught.value.__cause__ is error
    assert calls["n"] == 3


def test_the_retry_hint_of_the_failure_sets_the_delay() -> None:
    error = Flaky()
    error.hint = 7.0  # type: ignore[attr-defined]
    operation, _ = failing(1, error)
    sleep = SleepRecorder()
    policy = RetryPolicy(base_delay_s=0.01, jitter=0.0)
    asyncio.run(call_with_retry(operation, policy=policy, classify=classify, sleep=sleep))
    assert sleep.delays == [7.0]


def test_breaker_opens_after_the_threshold_of_consecutive_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("x", failure_threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()  # a success resets the streak
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError, match="open"):
        breaker.allow()


def test_breaker_half_opens_after_cooldown_and_lets_exactly_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("x", failure_threshold=1, cooldown_s=10, clock=clock)
    breaker.record_failure()
    clock.now += 9.9
    with pytest.raises(CircuitOpenError):
        breaker.allow()
    clock.now += 0.2
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.allow()
    with pytest.raises(CircuitOpenError):
        breaker.allow()  # the probe is still out
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    breaker.allow()


def test_a_failed_probe_reopens_the_breaker_for_a_full_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("x", failure_threshold=1, cooldown_s=10, clock=clock)
    breaker.record_failure()
    clock.now += 10
    breaker.allow()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.now += 5
    assert breaker.state is CircuitState.OPEN


def test_an_open_breaker_fails_calls_fast_without_retrying_them() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("x", failure_threshold=2, cooldown_s=30, clock=clock)
    operation, calls = failing(100, Flaky())
    sleep = SleepRecorder()
    policy = RetryPolicy(max_attempts=10, jitter=0.0)
    with pytest.raises(CircuitOpenError):
        asyncio.run(
            call_with_retry(
                operation, policy=policy, classify=classify, breaker=breaker, sleep=sleep
            )
        )
    assert calls["n"] == 2  # the third attempt never reached the operation
    assert len(sleep.delays) == 2


def test_permanent_errors_count_as_a_healthy_exchange_for_the_breaker() -> None:
    breaker = CircuitBreaker("x", failure_threshold=2, clock=FakeClock())
    breaker.record_failure()
    operation, _ = failing(1, Fatal())
    with pytest.raises(Fatal):
        asyncio.run(
            call_with_retry(operation, policy=RetryPolicy(), classify=classify, breaker=breaker)
        )
    assert breaker.consecutive_failures == 0


def test_a_cancelled_probe_frees_the_half_open_slot() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("x", failure_threshold=1, cooldown_s=1, clock=clock)
    breaker.record_failure()
    clock.now += 2

    async def scenario() -> None:
        probing = asyncio.Event()

        async def hang() -> None:
            probing.set()
            await asyncio.Event().wait()  # never answers

        task = asyncio.create_task(
            call_with_retry(hang, policy=RetryPolicy(), classify=classify, breaker=breaker)
        )
        await probing.wait()  # the probe holds the half-open slot now
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    breaker.allow()  # would raise if the cancelled probe still held the slot


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after({"Retry-After": "4"}) == 4.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    in_a_minute = formatdate(time.time() + 60, usegmt=True)
    assert 55 <= (parse_retry_after({"Retry-After": in_a_minute}) or 0) <= 61
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after(None) is None


def test_a_hint_longer_than_the_policy_allows_fails_now_and_holds_the_breaker_open() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("x", failure_threshold=5, cooldown_s=10, clock=clock)
    banned = Flaky("banned")
    banned.hint = 600.0  # type: ignore[attr-defined]
    operation, calls = failing(10, banned)
    sleep = SleepRecorder()
    policy = RetryPolicy(max_hint_s=60)
    with pytest.raises(RetriesExhaustedError):
        asyncio.run(
            call_with_retry(
                operation, policy=policy, classify=classify, breaker=breaker, sleep=sleep
            )
        )
    assert (calls["n"], sleep.delays) == (1, [])
    clock.now += 599
    with pytest.raises(CircuitOpenError) as caught:
        breaker.allow()
    assert caught.value.retry_in_s == pytest.approx(1.0)
    clock.now += 2
    breaker.allow()  # the ban is over: a probe may go out
