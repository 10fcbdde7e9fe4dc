"""Live price: the forming candle of every (symbol, timeframe) someone watches, fetched from
the exchange through the project's CCXT client and published as ``price`` items.

One loop per watched symbol, at most ``per_second`` requests a second for that symbol however
many clients watch it (its watched timeframes take turns); a symbol nobody watches any more
is no longer polled. Each process polls for its own clients.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from cryptolens.market.exchange import ExchangeClient
from cryptolens.stream.channels import ChannelKind
from cryptolens.stream.hub import Hub
from cryptolens.stream.translate import price_item

log = logging.getLogger(__name__)

_FIELDS = ("open", "high", "low", "close", "volume")


class PricePoller:
    def __init__(
        self, hub: Hub, client: Callable[[], ExchangeClient], *, per_second: float
    ) -> None:
        self._hub = hub
        self._make_client = client
        self._interval = 1.0 / per_second
        self._loops: dict[str, asyncio.Task[None]] = {}
        #: Per channel: the row last published and the channel's joins then.
        self._last: dict[str, tuple[tuple[float, ...], int]] = {}
        self.requests = 0

    def _watched(self) -> dict[str, list[str]]:
        """Timeframes watched per symbol, from the hub's ``price:<SYMBOL>:<TF>`` channels."""
        found: dict[str, list[str]] = {}
        for name in self._hub.viewed(ChannelKind.PRICE):
            _, symbol, timeframe = name.split(":")
            found.setdefault(symbol, []).append(timeframe)
        return found

    async def run(self) -> None:
        """Keep one loop per watched symbol, forever."""
        async with self._make_client() as client:
            try:
                while True:
                    watched = self._watched()
                    for symbol in watched.keys() - self._loops.keys():
                        self._loops[symbol] = asyncio.create_task(self._poll(client, symbol))
                    for symbol in self._loops.keys() - watched.keys():
                        self._loops.pop(symbol).cancel()
                    await asyncio.sleep(min(self._interval, 0.25))
            finally:
                for task in self._loops.values():
                    task.cancel()
                await asyncio.gather(*self._loops.values(), return_exceptions=True)
                self._loops.clear()

    async def _poll(self, client: ExchangeClient, symbol: str) -> None:
        turn = 0
        while True:
            timeframes = self._watched().get(symbol)
            if not timeframes:
                return
            timeframe = timeframes[turn % len(timeframes)]
            turn += 1
            started = asyncio.get_running_loop().time()
            await self._fetch(client, symbol, timeframe)
            spent = asyncio.get_running_loop().time() - started
            await asyncio.sleep(max(self._interval - spent, 0.0))

    async def _fetch(self, client: ExchangeClient, symbol: str, timeframe: str) -> None:
        self.requests += 1
        try:
            row = await client.fetch_forming_candle(symbol, timeframe)
        except Exception as exc:  # the exchange away: the chart keeps its last price
            log.warning("forming %s %s candle: %s", symbol, timeframe, exc)
            return
        channel = f"{ChannelKind.PRICE.value}:{symbol}:{timeframe}"
        if row is None:
            return
        # Published again unchanged when someone joined since: they have not seen it.
        seen = (row, self._hub.joins[channel])
        if self._last.get(channel) == seen:
            return
        self._last[channel] = seen
        values = dict(zip(_FIELDS, row[1:], strict=True))
        self._hub.publish(price_item(symbol, timeframe, int(row[0]), values))
