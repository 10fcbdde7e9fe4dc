"""Exchange access through CCXT: markets, the exchange's clock, and closed, validated candles.

Use :class:`ExchangeClient` as an async context manager (it owns an aiohttp session)::

    async with ExchangeClient("binance", api_url=sim.base_url, timeout_ms=5_000) as client:
        results = await client.fetch_many([FetchRequest("BTC/USDT", "1m", since_ms)])

Guarantees of :meth:`ExchangeClient.fetch_closed_candles`:

* only candles whose period has ended by the *exchange's* clock are returned (never the
  forming one), in ``[since_ms, until_ms)``, ascending, unique, every row validated;
* pages are requested with ``since``/``limit`` up to a known end, so a page that comes back
  short or with a hole is re-asked (faults drop rows; real gaps repeat): a short page is
  accepted once the same set of open times has been seen ``gap_confirmations`` times in
  clean answers, and rows seen in any answer are kept (faults remove rows, they never invent
  them); an answer with repeated or rejected rows never confirms a gap, and one shortened
  only by repeats (CCXT cuts answers to ``limit``) is kept and paging goes on after it;
* transient failures (network errors, timeouts, HTTP 5xx, 429/418 with their Retry-After
  hint) are retried with exponential backoff and jitter; a per-exchange circuit breaker
  fails calls fast while the exchange is down;
* if a later page fails for good, the pages already fetched are returned with
  ``complete=False`` and ``error`` set: store them and resume from ``next_since_ms``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

import ccxt

from cryptolens.detect.candles import Candles
from cryptolens.domain.errors import (
    CryptoLensError,
    ExchangeError,
    UnknownSymbolError,
    ValidationError,
)
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.infra import metrics
from cryptolens.market.ccxt_setup import (
    classify_error,
    create_ccxt_exchange,
)
from cryptolens.market.pages import PageAnswers, only_repeats
from cryptolens.market.resilience import (
    CircuitBreaker,
    RetryEvent,
    RetryPolicy,
    Sleep,
    call_with_retry,
)
from cryptolens.market.validation import (
    RejectReason,
    ValidatedCandles,
    closed_only,
    validate_ohlcv,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """One market as the exchange lists it (``symbol`` is CCXT's unified "BASE/QUOTE")."""

    symbol: str
    market_id: str
    base: str
    quote: str
    active: bool
    spot: bool


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """Closed candles of ``symbol``/``timeframe`` opening in ``[since_ms, until_ms)``."""

    symbol: str
    timeframe: str
    since_ms: int
    until_ms: int | None = None


@dataclass(frozen=True, slots=True, eq=False)
class FetchResult:
    """Validated closed candles of one request and how getting them went.

    ``end_ms`` is the exclusive end actually used: ``until_ms`` capped at the open of the
    forming candle at ``now_ms`` (exchange time). ``rejects`` counts rows dropped by
    validation across every request, re-asks included. ``next_since_ms`` is where the next
    incremental fetch should start (after the last candle returned, else ``since_ms``).
    """

    symbol: str
    timeframe: str
    candles: Candles
    rejects: Mapping[RejectReason, int]
    now_ms: int
    end_ms: int
    next_since_ms: int
    complete: bool
    error: CryptoLensError | None
    requests: int
    retries: int
    pages: int
    refetches: int
    confirmed_gaps: int


FetchOutcome = FetchResult | CryptoLensError


@dataclass(slots=True)
class _Tally:
    requests: int = 0
    retries: int = 0
    pages: int = 0
    refetches: int = 0
    confirmed_gaps: int = 0
    rejects: Counter[RejectReason] = field(default_factory=Counter)


def _market_info(market: Mapping[str, Any]) -> MarketInfo:
    return MarketInfo(
        symbol=str(market["symbol"]),
        market_id=str(market.get("id")),
        base=str(market.get("base")),
        quote=str(market.get("quote")),
        active=market.get("active") is not False,
        spot=bool(market.get("spot")),
    )


class ExchangeClient:
    """Market data from one CCXT exchange, with retries, a breaker and bounded concurrency.

    ``max_concurrency`` bounds HTTP requests in flight (across every symbol); a request
    sleeping in backoff does not hold a slot. ``breaker`` None gets a private breaker; pass
    a long-lived one to keep its state across clients. ``sleep`` and ``rng`` are injectable
    so tests neither wait nor vary.
    """

    def __init__(
        self,
        exchange_id: str = "binance",
        *,
        api_url: str | None = None,
        timeout_ms: int = 10_000,
        max_concurrency: int = 8,
        retry: RetryPolicy = DEFAULT_RETRY,
        breaker: CircuitBreaker | None = None,
        page_limit: int = 1000,
        enable_rate_limit: bool = True,
        gap_confirmations: int = 2,
        max_page_attempts: int = 6,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        ccxt_config: Mapping[str, Any] | None = None,
    ) -> None:
        if max_concurrency < 1 or page_limit < 1:
            raise ValidationError("max_concurrency and page_limit must be at least 1")
        if gap_confirmations < 1 or max_page_attempts < gap_confirmations:
            raise ValidationError("need 1 <= gap_confirmations <= max_page_attempts")
        self.exchange_id = exchange_id
        self.exchange = create_ccxt_exchange(
            exchange_id,
            api_url=api_url,
            timeout_ms=timeout_ms,
            enable_rate_limit=enable_rate_limit,
            config=ccxt_config,
        )
        self.breaker = CircuitBreaker(exchange_id) if breaker is None else breaker
        self._retry = retry
        self._slots = asyncio.Semaphore(max_concurrency)
        self._page_limit = page_limit
        self._gap_confirmations = gap_confirmations
        self._max_page_attempts = max_page_attempts
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._markets: Mapping[str, MarketInfo] | None = None
        self._markets_lock = asyncio.Lock()

    async def __aenter__(self) -> ExchangeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.exchange.close()

    # -- calls -----------------------------------------------------------------------------

    async def _request(
        self,
        what: str,
        call: Callable[[], Awaitable[T]],
        tally: _Tally | None = None,
        symbol: str | None = None,
    ) -> T:
        async def attempt() -> T:
            async with self._slots:
                if tally is not None:
                    tally.requests += 1
                try:
                    return await call()
                except Exception as exc:
                    metrics.count_exchange_error(self.exchange_id, what, exc)
                    raise

        def on_retry(event: RetryEvent) -> None:
            if tally is not None:
                tally.retries += 1
            log.info(
                "%s %s failed (%s: %s); retry %d in %.2fs",
                self.exchange_id,
                what,
                type(event.error).__name__,
                event.error,
                event.retry_number,
                event.delay_s,
            )

        try:
            return await call_with_retry(
                attempt,
                policy=self._retry,
                classify=classify_error,
                breaker=self.breaker,
                sleep=self._sleep,
                rng=self._rng,
                on_retry=on_retry,
            )
        except ccxt.BadSymbol as exc:
            raise UnknownSymbolError(
                f"{self.exchange_id} does not list {symbol or 'the symbol'}: {exc}"
            ) from exc
        except ccxt.BaseError as exc:
            raise ExchangeError(f"{self.exchange_id} {what} failed: {exc}") from exc

    async def load_markets(self, *, reload: bool = False) -> Mapping[str, MarketInfo]:
        """Markets by unified symbol; loaded once per client (all symbols share them)."""
        async with self._markets_lock:
            if self._markets is None or reload:
                raw = await self._request(
                    "load_markets", lambda: self.exchange.load_markets(reload)
                )
                markets = {str(s): _market_info(m) for s, m in dict(raw).items()}
                self._markets = MappingProxyType(markets)
            return self._markets

    async def market(self, symbol: str) -> MarketInfo:
        """The market for ``symbol``; UnknownSymbolError if the exchange does not list it."""
        markets = await self.load_markets()
        if symbol not in markets:
            raise UnknownSymbolError(f"{self.exchange_id} does not list {symbol}")
        return markets[symbol]

    async def exchange_now_ms(self) -> int:
        """The exchange's current time (epoch ms); the wall clock only if it has no clock."""
        if not self.exchange.has.get("fetchTime"):
            return int(time.time() * 1000)
        value = await self._request("fetch_time", lambda: self.exchange.fetch_time())
        if not isinstance(value, int):
            raise ExchangeError(f"{self.exchange_id} fetch_time returned {value!r}")
        return value

    # -- candles ---------------------------------------------------------------------------

    async def _ask_page(
        self, symbol: str, timeframe: str, cursor: int, end: int, want: int, tally: _Tally
    ) -> ValidatedCandles:
        """One answer for the page at ``cursor``: validated, cut to ``[cursor, end)``."""
        raw = await self._request(
            "fetch_ohlcv",
            lambda: self.exchange.fetch_ohlcv(
                symbol, timeframe, since=cursor, limit=want, params={"until": end - 1}
            ),
            tally,
            symbol,
        )
        batch = validate_ohlcv(raw, timeframe)
        tally.rejects.update(batch.rejects)
        page = batch.candles
        inside = (page.open_time >= cursor) & (page.open_time < end)
        return ValidatedCandles(page.take(inside), batch.rejects)

    async def _fetch_page(
        self, symbol: str, timeframe: str, cursor: int, end: int, want: int, tally: _Tally
    ) -> tuple[Candles, bool] | None:
        """Up to ``want`` candles from ``cursor`` and whether that was all the exchange has
        before ``end`` (a confirmed short page); None if its answers never agreed.

        Only clean answers confirm a short page. An answer whose only flaw is repeated rows
        is short because CCXT cuts every answer to ``limit`` rows, so the repeats pushed
        real candles off its end: its rows are kept and the caller goes on after them.
        """
        answers = PageAnswers(want)
        for attempt in range(1, self._max_page_attempts + 1):
            if attempt > 1:
                tally.refetches += 1
            batch = await self._ask_page(symbol, timeframe, cursor, end, want, tally)
            answers.add(batch.candles)
            if answers.whole or only_repeats(batch):
                return answers.candles(), False
            if not batch.rejects and answers.agree(batch.candles) >= self._gap_confirmations:
                tally.confirmed_gaps += 1
                return answers.candles(), True
            log.debug(
                "%s %s %s page at %d: %d of %d candles; asking again",
                self.exchange_id,
                symbol,
                timeframe,
                cursor,
                len(batch.candles),
                want,
            )
        return None

    async def _fetch_pages(
        self, symbol: str, timeframe: str, start: int, end: int, tally: _Tally
    ) -> tuple[list[Candles], CryptoLensError | None]:
        """Page through ``[start, end)``; a failure after the first page ends the walk and is
        returned with the pages so far (the first page's failure is raised)."""
        step = timeframe_ms(timeframe)
        cursor = start
        parts: list[Candles] = []
        while cursor < end:
            try:
                page, done = await self._next_page(symbol, timeframe, cursor, end, tally)
            except UnknownSymbolError:
                raise
            except CryptoLensError as exc:
                if not parts:
                    raise
                return parts, exc
            tally.pages += 1
            if len(page):
                parts.append(page)
                cursor = int(page.open_time[-1]) + step
            if done:
                break
        return parts, None

    async def _next_page(
        self, symbol: str, timeframe: str, cursor: int, end: int, tally: _Tally
    ) -> tuple[Candles, bool]:
        """The page at ``cursor`` and whether the exchange has confirmed nothing follows it
        before ``end``; ExchangeError if its answers never agreed."""
        step = timeframe_ms(timeframe)
        want = min(self._page_limit, -(-(end - cursor) // step))
        fetched = await self._fetch_page(symbol, timeframe, cursor, end, want, tally)
        if fetched is None:
            raise ExchangeError(
                f"{self.exchange_id} {symbol} {timeframe}: no consistent answer for "
                f"the page at {cursor} after {self._max_page_attempts} attempts"
            )
        page, exhausted = fetched
        if not len(page):
            return page, True
        if exhausted:
            after = int(page.open_time[-1]) + step
            return page, not await self._more_after(symbol, timeframe, after, end, tally)
        return page, False

    async def _more_after(
        self, symbol: str, timeframe: str, cursor: int, end: int, tally: _Tally
    ) -> bool:
        """Whether anything follows a confirmed short page: one more question, so a page
        that only looked short (an exchange capping ``limit``, rows pushed off an answer)
        never makes the rest of the range pass for a gap."""
        if cursor >= end:
            return False
        step = timeframe_ms(timeframe)
        want = min(self._page_limit, -(-(end - cursor) // step))
        batch = await self._ask_page(symbol, timeframe, cursor, end, want, tally)
        return bool(len(batch.candles) or batch.rejects)

    async def fetch_closed_candles(
        self,
        symbol: str,
        timeframe: str,
        since_ms: int,
        until_ms: int | None = None,
        *,
        now_ms: int | None = None,
    ) -> FetchResult:
        """Closed candles opening in ``[since_ms, until_ms)`` (see the module docstring).

        ``now_ms`` (exchange time) defaults to a fresh ``exchange_now_ms()``; ``fetch_many``
        asks once and shares it. Raises UnknownSymbolError for a symbol the exchange does not
        list, ValidationError for a bad timeframe, and ExchangeError (or CircuitOpenError) if
        nothing could be fetched.
        """
        step = timeframe_ms(timeframe)
        await self.market(symbol)
        if timeframe not in (self.exchange.timeframes or {}):
            raise ValidationError(f"{self.exchange_id} has no {timeframe} candles")
        now = await self.exchange_now_ms() if now_ms is None else now_ms
        horizon = now - now % step  # open time of the forming candle
        end = horizon if until_ms is None else min(until_ms, horizon)
        start = since_ms + (-since_ms) % step
        tally = _Tally()
        parts, error = await self._fetch_pages(symbol, timeframe, start, end, tally)
        # `end` already excludes the forming candle; this guards against exchanges that
        # ignore the end-time parameter.
        candles = closed_only(Candles.concat(parts), timeframe, now)
        return FetchResult(
            symbol=symbol,
            timeframe=timeframe,
            candles=candles,
            rejects=MappingProxyType(dict(tally.rejects)),
            now_ms=now,
            end_ms=end,
            next_since_ms=int(candles.open_time[-1]) + step if len(candles) else start,
            complete=error is None,
            error=error,
            requests=tally.requests,
            retries=tally.retries,
            pages=tally.pages,
            refetches=tally.refetches,
            confirmed_gaps=tally.confirmed_gaps,
        )

    async def fetch_forming_candle(self, symbol: str, timeframe: str) -> tuple[float, ...] | None:
        """The newest candle of ``timeframe`` as the exchange has it now, usually the still
        forming one: (open time ms, open, high, low, close, volume); None if none came."""
        raw = await self._request(
            "fetch_ohlcv",
            lambda: self.exchange.fetch_ohlcv(symbol, timeframe, limit=2),
            symbol=symbol,
        )
        rows = [r for r in raw or () if len(r) >= 6 and all(v is not None for v in r[:6])]
        return tuple(float(v) for v in rows[-1][:6]) if rows else None

    async def fetch_many(
        self, requests: Iterable[FetchRequest], *, now_ms: int | None = None
    ) -> dict[FetchRequest, FetchOutcome]:
        """Fetch every request concurrently; each maps to its FetchResult or its error.

        One request's failure never affects the others (UnknownSymbolError tells the caller
        to deactivate that symbol). The exchange clock and the markets are fetched once.
        """
        wanted = list(dict.fromkeys(requests))
        try:
            await self.load_markets()
            now = await self.exchange_now_ms() if now_ms is None else now_ms
        except CryptoLensError as exc:
            return dict.fromkeys(wanted, exc)

        async def one(request: FetchRequest) -> FetchOutcome:
            try:
                return await self.fetch_closed_candles(
                    request.symbol,
                    request.timeframe,
                    request.since_ms,
                    request.until_ms,
                    now_ms=now,
                )
            except CryptoLensError as exc:
                return exc
            except Exception as exc:  # a bug must not take the other symbols down with it
                log.exception("unexpected error fetching %s", request)
                return ExchangeError(f"unexpected {type(exc).__name__}: {exc}")

        outcomes = await asyncio.gather(*(one(request) for request in wanted))
        return dict(zip(wanted, outcomes, strict=True))


def fetch_many_sync(
    exchange_id: str, requests: Iterable[FetchRequest], **client_options: Any
) -> dict[FetchRequest, FetchOutcome]:
    """Blocking ``fetch_many`` with a short-lived client (for CLI commands and RQ jobs)."""

    async def run() -> dict[FetchRequest, FetchOutcome]:
        async with ExchangeClient(exchange_id, **client_options) as client:
            return await client.fetch_many(requests)

    return asyncio.run(run())
