"""Retries with exponential backoff and jitter, and a per-exchange circuit breaker.

Nothing here knows about CCXT: the caller passes ``classify``, which says whether an exception
is transient (worth retrying) and what delay the server asked for. Time is injected — the
breaker takes a monotonic ``clock`` and ``call_with_retry`` an async ``sleep`` — so tests run
without really waiting.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import TypeVar

from cryptolens.domain.errors import ExchangeError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently one exchange call is retried.

    The n-th retry waits ``min(max_delay_s, base_delay_s * multiplier**(n-1))`` scaled down by
    a random fraction of up to ``jitter`` (so simultaneous clients spread out), and never less
    than the server's own hint (Retry-After). Hints beyond ``max_hint_s`` are not waited for
    in-call (see ``call_with_retry``).
    """

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5
    max_hint_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be within [0, 1]")
        if self.base_delay_s < 0 or self.max_delay_s < 0 or self.multiplier < 1:
            raise ValueError("delays must be non-negative and multiplier at least 1")

    def delay_s(self, retry_number: int, rng: random.Random, hint_s: float | None = None) -> float:
        """Seconds to wait before retry number ``retry_number`` (1 for the first retry)."""
        raw = min(self.max_delay_s, self.base_delay_s * self.multiplier ** (retry_number - 1))
        delay = raw * (1.0 - self.jitter * rng.random())
        if hint_s is not None and hint_s > 0:
            delay = max(delay, min(hint_s, self.max_hint_s))
        return delay


@dataclass(frozen=True, slots=True)
class Transient:
    """``classify``'s verdict that a failure is worth retrying, with the server's delay hint."""

    hint_s: float | None = None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Passed to ``on_retry`` before each backoff sleep."""

    retry_number: int
    delay_s: float
    error: BaseException


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(ExchangeError):
    """Raised instead of calling an exchange whose circuit breaker is open."""

    def __init__(self, name: str, retry_in_s: float) -> None:
        super().__init__(
            f"circuit breaker for {name!r} is open after repeated failures; "
            f"not calling the exchange for another {retry_in_s:.1f}s"
        )
        self.name = name
        self.retry_in_s = retry_in_s


class RetriesExhaustedError(ExchangeError):
    """Every attempt failed with a transient error; ``__cause__`` is the last one."""

    def __init__(self, attempts: int, last: BaseException) -> None:
        super().__init__(f"gave up after {attempts} attempts: {type(last).__name__}: {last}")
        self.attempts = attempts


class CircuitBreaker:
    """Closed → (``failure_threshold`` consecutive failures) → open → (``cooldown_s``) →
    half-open, where exactly one probe call is let through: success closes, failure re-opens.

    One breaker per exchange, shared by every symbol, and long-lived: pass the same instance
    to each short-lived client so the state survives between fetch cycles. Thread-safe.
    """

    def __init__(
        self,
        name: str = "exchange",
        *,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._open_until = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> CircuitState:
        with self._lock:
            self._maybe_half_open()
            return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def _maybe_half_open(self) -> None:
        if self._state is CircuitState.OPEN and self._clock() >= self._open_until:
            self._state = CircuitState.HALF_OPEN
            self._probe_in_flight = False

    def _open(self, seconds: float) -> None:
        self._state = CircuitState.OPEN
        self._open_until = max(self._open_until, self._clock() + seconds)

    def allow(self) -> None:
        """Return if a call may go out now; raise CircuitOpenError (without waiting) if not."""
        with self._lock:
            self._maybe_half_open()
            if self._state is CircuitState.CLOSED:
                return
            if self._state is CircuitState.HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                return
            remaining = max(0.0, self._open_until - self._clock())
        raise CircuitOpenError(self.name, remaining)

    def record_success(self) -> None:
        with self._lock:
            self._state = CircuitState.CLOSED
            self._failures = 0
            self._probe_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
                self._open_until = 0.0  # a fresh cooldown, not an earlier hold's remainder
                self._open(self.cooldown_s)
            self._probe_in_flight = False

    def hold_open(self, seconds: float) -> None:
        """Open now for at least ``seconds``: the exchange asked us to stay away (a ban)."""
        with self._lock:
            self._open(seconds)
            self._probe_in_flight = False

    def record_abandoned(self) -> None:
        """A call was cancelled before it told us anything: free the half-open probe slot."""
        with self._lock:
            self._probe_in_flight = False


async def call_with_retry(
    operation: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    classify: Callable[[BaseException], Transient | None],
    breaker: CircuitBreaker | None = None,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[RetryEvent], None] | None = None,
) -> T:
    """Await ``operation()`` until it succeeds, retrying transient failures with backoff.

    Permanent failures (``classify`` returns None) propagate at once and count as a *healthy*
    answer for the breaker: the exchange responded, the request was wrong. CircuitOpenError is
    never retried — failing fast is its point. A server hint longer than ``max_hint_s`` (say a
    ten-minute IP ban) is not slept through: the call fails now and the breaker is held open
    for the hinted time, so every other call fails fast instead of piling on.
    """
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        if breaker is not None:
            breaker.allow()
        try:
            result = await operation()
        except asyncio.CancelledError:
            if breaker is not None:
                breaker.record_abandoned()
            raise
        except Exception as exc:
            delay = _retry_delay(
                exc, attempt, policy=policy, classify=classify, breaker=breaker, rng=rng
            )
            if on_retry is not None:
                on_retry(RetryEvent(attempt, delay, exc))
            await sleep(delay)
            continue
        if breaker is not None:
            breaker.record_success()
        return result


def _retry_delay(
    exc: Exception,
    attempt: int,
    *,
    policy: RetryPolicy,
    classify: Callable[[BaseException], Transient | None],
    breaker: CircuitBreaker | None,
    rng: random.Random,
) -> float:
    """Seconds to wait before retrying after ``exc`` failed attempt number ``attempt``;
    raises instead when the failure is permanent or no retry is left or worth waiting for."""
    verdict = classify(exc)
    if breaker is not None:
        # A permanent failure is a healthy answer: the exchange responded, the request was wrong.
        if verdict is None:
            breaker.record_success()
        else:
            breaker.record_failure()
    if verdict is None:
        raise exc
    if verdict.hint_s is not None and verdict.hint_s > policy.max_hint_s:
        if breaker is not None:
            breaker.hold_open(verdict.hint_s)
        raise RetriesExhaustedError(attempt, exc) from exc
    if attempt >= policy.max_attempts:
        raise RetriesExhaustedError(attempt, exc) from exc
    return policy.delay_s(attempt, rng, verdict.hint_s)


def parse_retry_after(headers: object) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), if there is one."""
    if not isinstance(headers, Mapping):
        return None
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(str(value)).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
