"""CCXT set-up: an async exchange for spot market data pointed at an API override, with its
errors tagged (HTTP status, Retry-After) and classified as transient or permanent."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import ccxt
import ccxt.async_support as ccxt_async

from cryptolens.domain.errors import ValidationError
from cryptolens.market.resilience import Transient, parse_retry_after

#: Attributes the client attaches to CCXT exceptions (CCXT drops response headers otherwise).
STATUS_ATTR = "cryptolens_http_status"
RETRY_AFTER_ATTR = "cryptolens_retry_after_s"
_RETRYABLE_4XX = frozenset({408, 418, 429})


def point_api_at(urls: object, base_url: str) -> object:
    """``urls`` (CCXT ``exchange.urls['api']``: a URL or nested dict of URLs) with every
    scheme and host replaced by ``base_url``'s, paths kept: ``https://api.binance.com/api/v3``
    becomes ``http://127.0.0.1:8765/api/v3``, and so on for every API family."""
    if isinstance(urls, dict):
        return {key: point_api_at(value, base_url) for key, value in urls.items()}
    if isinstance(urls, str) and "://" in urls:
        base = urlsplit(base_url)
        parts = urlsplit(urls)
        path = base.path.rstrip("/") + parts.path
        return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))
    return urls


def _install_error_hooks(exchange: Any) -> None:
    """Tag CCXT's exceptions with the HTTP status and Retry-After hint of the response.

    Exchange classes raise from ``handle_errors`` (which sees headers) or fall through to
    ``handle_http_status_code`` (which does not); wrapping both keeps the hint and lets
    ``classify_error`` tell a 404 from a 503 even when both became ExchangeNotAvailable.
    """
    original_errors = exchange.handle_errors
    original_status = exchange.handle_http_status_code

    def handle_errors(*args: Any) -> Any:
        code, headers = args[0], args[4]
        try:
            result = original_errors(*args)
        except ccxt.BaseError as exc:
            setattr(exc, STATUS_ATTR, code)
            setattr(exc, RETRY_AFTER_ATTR, parse_retry_after(headers))
            raise
        if code in (418, 429):
            limited = ccxt.RateLimitExceeded(f"{exchange.id} HTTP {code} {args[5]}")
            setattr(limited, STATUS_ATTR, code)
            setattr(limited, RETRY_AFTER_ATTR, parse_retry_after(headers))
            raise limited
        return result

    def handle_http_status_code(*args: Any) -> Any:
        try:
            return original_status(*args)
        except ccxt.BaseError as exc:
            setattr(exc, STATUS_ATTR, args[0])
            raise

    exchange.handle_errors = handle_errors
    exchange.handle_http_status_code = handle_http_status_code


def classify_error(exc: BaseException) -> Transient | None:
    """Transient (retry, with the server's hint) or permanent (None) for a failed call."""
    status = getattr(exc, STATUS_ATTR, None)
    if isinstance(status, int) and 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return None
    if isinstance(exc, ccxt.OperationFailed | asyncio.TimeoutError | aiohttp.ClientError) or (
        isinstance(status, int) and (status >= 500 or status in _RETRYABLE_4XX)
    ):
        hint = getattr(exc, RETRY_AFTER_ATTR, None)
        return Transient(hint if isinstance(hint, float | int) else None)
    return None


def create_ccxt_exchange(
    exchange_id: str,
    *,
    api_url: str | None = None,
    timeout_ms: int = 10_000,
    enable_rate_limit: bool = True,
    config: Mapping[str, Any] | None = None,
) -> Any:
    """An async CCXT exchange set up for spot market data (and the simulator, if given)."""
    if exchange_id not in ccxt_async.exchanges:
        raise ValidationError(f"unknown CCXT exchange id {exchange_id!r}")
    settings: dict[str, Any] = {
        "enableRateLimit": enable_rate_limit,
        "timeout": timeout_ms,
        "options": {"defaultType": "spot"},
        # CCXT sleeps this long (250 ms by default) in every close(), to let SSL transports
        # finish closing before a loop ends. A scan job opens and closes a client per symbol,
        # so that sleep was most of a job's time; unclosed-transport noise is all it saves.
        "timeout_on_exit": 0,
    }
    for key, value in (config or {}).items():
        if key == "options" and isinstance(value, Mapping):
            settings["options"] = {**settings["options"], **value}  # keep defaultType unless set
        else:
            settings[key] = value
    exchange = getattr(ccxt_async, exchange_id)(settings)
    fetch_markets = exchange.options.get("fetchMarkets")
    if isinstance(fetch_markets, dict) and "spot" in (fetch_markets.get("types") or ()):
        # Binance: spot markets only — one request instead of three, and no futures hosts
        # (which neither CryptoLens nor the simulator needs).
        exchange.options["fetchMarkets"] = {**fetch_markets, "types": ["spot"]}
    if api_url:
        exchange.urls["api"] = point_api_at(exchange.urls["api"], api_url)
    _install_error_hooks(exchange)
    return exchange
