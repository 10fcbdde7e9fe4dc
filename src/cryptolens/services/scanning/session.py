"""A scan session: scan cycles in a long-running process (the in-process scheduler, ``scan``
without ``--once``, a kept worker process), keeping one event loop and exchange client."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.domain.errors import CryptoLensError
from cryptolens.market.exchange import ExchangeClient
from cryptolens.services.market.ingest import exchange_client
from cryptolens.services.scanning.scan import ScanReport, scan_cycle_async

log = logging.getLogger(__name__)


class ScanSession:
    """Scan cycles in a long-running process (the in-process scheduler, ``scan`` without
    ``--once``): one event loop and one exchange client kept across cycles, so markets are
    loaded once (and refreshed every ``markets_ttl_s``) and the circuit breaker remembers."""

    def __init__(self, engine: Engine, settings: Settings, *, markets_ttl_s: float = 3600) -> None:
        self.engine = engine
        self.settings = settings
        self.markets_ttl_s = markets_ttl_s
        self._runner = asyncio.Runner()
        self._client: ExchangeClient | None = None
        self._markets_at: float | None = None

    def cycle(self, *, symbols: list[str] | None = None) -> ScanReport:
        return self._runner.run(self._cycle(symbols))

    async def _cycle(self, symbols: list[str] | None) -> ScanReport:
        if self._client is None:
            self._client = exchange_client(self.settings)
        now = time.monotonic()
        if self._markets_at is not None and now - self._markets_at > self.markets_ttl_s:
            try:  # listings change: new symbols appear, others are delisted
                await self._client.load_markets(reload=True)
            except CryptoLensError as exc:
                log.warning("reloading markets failed (kept the old ones): %s", exc)
            self._markets_at = now
        self._markets_at = self._markets_at or now
        return await scan_cycle_async(
            self.engine, self.settings, symbols=symbols, client=self._client
        )

    def close(self) -> None:
        if self._client is not None:
            self._runner.run(self._client.close())
            self._client = None
        self._runner.close()
