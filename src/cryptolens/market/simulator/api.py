"""The Binance spot public REST subset CCXT needs, as pure request → response functions.

Endpoints: ``/api/v3/ping``, ``/api/v3/time``, ``/api/v3/exchangeInfo`` and
``/api/v3/klines``. Errors use Binance's HTTP 400 body ``{"code": -11xx, "msg": ...}`` so
CCXT maps them to the same exception classes it would for the real exchange (-1121 becomes
``BadSymbol``, -1120 and -1100 ``BadRequest``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptolens.domain.symbols import split_symbol
from cryptolens.market.simulator.datasets import Dataset
from cryptolens.market.simulator.faults import Fault, apply_data_fault
from cryptolens.market.simulator.klines import INTERVALS, compute_klines, supports

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
_DIGITS = re.compile(r"^[0-9]{1,20}$")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(
        cls, status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, (("Content-Type", "application/json;charset=UTF-8"), *headers))


def binance_error(code: int, msg: str, *, status: int = 400) -> Response:
    return Response.json(status, {"code": code, "msg": msg})


class BadParameter(Exception):
    """A request parameter Binance would refuse; carries the ready error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.body.decode())
        self.response = response


@dataclass(frozen=True, slots=True)
class Listing:
    """A symbol the simulated exchange lists: unified "BASE/QUOTE" and Binance id."""

    symbol: str
    market_id: str
    base: str
    quote: str

    @classmethod
    def of(cls, symbol: str) -> Listing:
        base, quote = split_symbol(symbol)  # ValidationError is a ValueError
        return cls(symbol, f"{base}{quote}", base, quote)


class MarketBook:
    """Listed symbols and their datasets; thread-safe, datasets swapped whole on revision."""

    def __init__(self, datasets: Mapping[str, Dataset]) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, tuple[Listing, Dataset]] = {}
        for symbol, data in datasets.items():
            self.add(symbol, data)

    def add(self, symbol: str, data: Dataset) -> Listing:
        listing = Listing.of(symbol)
        with self._lock:
            self._by_id[listing.market_id] = (listing, data)
        return listing

    def remove(self, symbol: str) -> None:
        market_id = Listing.of(symbol).market_id
        with self._lock:
            self._by_id.pop(market_id, None)

    def get(self, market_id: str) -> tuple[Listing, Dataset] | None:
        with self._lock:
            return self._by_id.get(market_id)

    def dataset(self, symbol: str) -> Dataset:
        found = self.get(Listing.of(symbol).market_id)
        if found is None:
            raise KeyError(f"{symbol} is not listed")
        return found[1]

    def listings(self) -> list[Listing]:
        with self._lock:
            return sorted((entry[0] for entry in self._by_id.values()), key=lambda x: x.symbol)

    def revise(self, symbol: str, open_time_ms: int, changes: Mapping[str, float]) -> None:
        listing = Listing.of(symbol)
        with self._lock:
            _, data = self._by_id[listing.market_id]
            self._by_id[listing.market_id] = (listing, data.revised(open_time_ms, changes))


def _symbol_entry(listing: Listing) -> dict[str, object]:
    return {
        "symbol": listing.market_id,
        "status": "TRADING",
        "baseAsset": listing.base,
        "baseAssetPrecision": 8,
        "quoteAsset": listing.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.01000000",
                "maxPrice": "1000000.00000000",
                "tickSize": "0.01000000",
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": "0.00001000",
                "maxQty": "9000.00000000",
                "stepSize": "0.00001000",
            },
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def exchange_info(book: MarketBook, query: Mapping[str, Sequence[str]], now_ms: int) -> Response:
    listings = book.listings()
    wanted: list[str] = []
    if "symbol" in query:
        wanted = [query["symbol"][0]]
    elif "symbols" in query:
        try:
            parsed = json.loads(query["symbols"][0])
        except ValueError:
            return binance_error(-1100, "Illegal characters found in parameter 'symbols'.")
        wanted = [str(item) for item in parsed] if isinstance(parsed, list) else []
    if wanted:
        by_id = {listing.market_id: listing for listing in listings}
        if any(market_id not in by_id for market_id in wanted):
            return binance_error(-1121, "Invalid symbol.")
        listings = [by_id[market_id] for market_id in wanted]
    return Response.json(
        200,
        {
            "timezone": "UTC",
            "serverTime": now_ms,
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 6000,
                },
                {
                    "rateLimitType": "RAW_REQUESTS",
                    "interval": "MINUTE",
                    "intervalNum": 5,
                    "limit": 61000,
                },
            ],
            "exchangeFilters": [],
            "symbols": [_symbol_entry(listing) for listing in listings],
        },
    )


def _required(query: Mapping[str, Sequence[str]], name: str) -> str:
    values = query.get(name)
    if not values or not values[0]:
        raise BadParameter(
            binance_error(
                -1102,
                f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
            )
        )
    return values[0]


def _optional_int(query: Mapping[str, Sequence[str]], name: str) -> int | None:
    values = query.get(name)
    if not values:
        return None
    if not _DIGITS.match(values[0]):
        raise BadParameter(
            binance_error(
                -1100,
                f"Illegal characters found in parameter '{name}'; "
                "legal range is '^[0-9]{1,20}$'.",
            )
        )
    return int(values[0])


def symbol_param(book: MarketBook, query: Mapping[str, Sequence[str]]) -> Listing | None:
    """The listed symbol a request names, if any (used to target faults)."""
    values = query.get("symbol")
    found = book.get(values[0]) if values else None
    return found[0] if found else None


def klines(
    book: MarketBook,
    query: Mapping[str, Sequence[str]],
    now_ms: int,
    fault: Fault | None = None,
    refine_seed: int | None = None,
) -> Response:
    try:
        market_id = _required(query, "symbol")
        interval = _required(query, "interval")
        start_ms = _optional_int(query, "startTime")
        end_ms = _optional_int(query, "endTime")
        limit = _optional_int(query, "limit")
    except BadParameter as bad:
        return bad.response
    found = book.get(market_id)
    if found is None:
        return binance_error(-1121, "Invalid symbol.")
    _, data = found
    if interval not in INTERVALS or not supports(data, interval, finer=refine_seed is not None):
        # Real Binance serves every interval; the simulator cannot invent candles finer than
        # its base data, and says so with the code Binance uses for intervals it rejects.
        return binance_error(-1120, "Invalid interval.")
    if limit is None:
        limit = DEFAULT_LIMIT
    if limit < 1:
        return binance_error(-1130, "Data sent for parameter 'limit' is not valid.")
    limit = min(limit, MAX_LIMIT)  # like spot Binance: larger limits are capped, not refused
    bars = compute_klines(
        data,
        interval,
        start_ms=start_ms,
        end_ms=end_ms,
        limit=limit,
        now_ms=now_ms,
        refine_seed=refine_seed,
    )
    rows = bars.to_binance_rows()
    if fault is not None:
        rows = apply_data_fault(fault, rows)
    return Response.json(200, rows)
