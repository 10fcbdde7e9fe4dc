"""Exchange-side builders: datasets exact on the wire, a CCXT client aimed at a simulator,
an injectable sleep and clock, and a plain JSON HTTP call."""

from __future__ import annotations

import asyncio
import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import numpy as np

from cryptolens.market.exchange import ExchangeClient
from cryptolens.market.resilience import RetryPolicy
from cryptolens.market.simulator import Dataset, SimulatorServer
from cryptolens.market.synthetic import synthetic_candles
from cryptolens.market.validation import Candles

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
#: 2024-01-01T00:00:00Z (a Monday): every bucket boundary lines up here.
T0 = 1_704_067_200_000


def quantize(values: np.ndarray) -> np.ndarray:
    """Values as they survive Binance's 8-decimal wire format (what the client can see)."""
    return np.asarray([float(f"{x:.8f}") for x in values], dtype=np.float64)


def exact_dataset(n: int, *, seed: int = 1, start_ms: int = T0, step_ms: int = MINUTE) -> Dataset:
    """Synthetic candles already on the 8-decimal grid, so served values equal the source."""
    raw = synthetic_candles(n, seed=seed, start_ms=start_ms, step_ms=step_ms)
    return Dataset.from_arrays(
        raw.open_time,
        quantize(raw.open),
        quantize(raw.high),
        quantize(raw.low),
        quantize(raw.close),
        quantize(raw.volume),
        step_ms=step_ms,
    )


def drop_rows(data: Dataset, open_times: list[int]) -> Dataset:
    keep = ~np.isin(data.open_time, np.asarray(open_times, dtype=np.int64))
    return Dataset.from_arrays(
        data.open_time[keep],
        data.open[keep],
        data.high[keep],
        data.low[keep],
        data.close[keep],
        data.volume[keep],
        step_ms=data.step_ms,
    )


class SleepRecorder:
    """An injectable ``sleep`` that records the delays asked for and only yields."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class FakeClock:
    """A clock in seconds that moves only by hand (``clock.now += 31``), or by ``tick`` on
    every read, so a simulator's market can move between any two requests, deterministically."""

    def __init__(self, start: float = 1000.0, *, tick: float = 0.0) -> None:
        self.now = start
        self.tick = tick

    def __call__(self) -> float:
        now = self.now
        self.now += self.tick
        return now


def http_json(
    url: str, *, method: str = "GET", payload: object = None
) -> tuple[int, Any, dict[str, str]]:
    """(status, decoded JSON body, headers) of one request; HTTP errors are returned too."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as error:
        body = error.read()
        error.close()
        try:
            decoded: Any = json.loads(body)
        except ValueError:
            decoded = body.decode()
        return error.code, decoded, dict(error.headers)


SimFactory = Callable[..., SimulatorServer]


def client_for(base_url: str, exchange_id: str = "binance", **overrides: Any) -> ExchangeClient:
    """A real CCXT-backed client aimed at a simulator: no CCXT throttling, no real sleeps."""
    options: dict[str, Any] = {
        "api_url": base_url,
        "timeout_ms": 2_000,
        "enable_rate_limit": False,
        "sleep": SleepRecorder(),
        "rng": random.Random(0),
        "retry": RetryPolicy(max_attempts=8, base_delay_s=0.05, jitter=0.5),
    }
    options.update(overrides)
    return ExchangeClient(exchange_id, **options)


def source_slice(data: Dataset, start_ms: int, end_ms: int) -> Candles:
    """The dataset's candles opening in [start_ms, end_ms), as the client should return them."""
    keep = (data.open_time >= start_ms) & (data.open_time < end_ms)
    return Candles(
        data.open_time[keep].copy(),
        data.open[keep].copy(),
        data.high[keep].copy(),
        data.low[keep].copy(),
        data.close[keep].copy(),
        data.volume[keep].copy(),
    )
