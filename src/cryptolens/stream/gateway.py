"""The gateway's shared state and the parts of a request both feeds use: who is asking,
which origins may ask with the session cookie, and the background work (the event source,
the heartbeat check of every connection's credentials, the price poller)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from cryptolens.config import Settings
from cryptolens.market.exchange import ExchangeClient
from cryptolens.stream.auth import (
    SESSION_COOKIE,
    Authenticator,
    Credential,
    KeyCredential,
    Refused,
    Viewer,
)
from cryptolens.stream.hub import Client, CloseReason, Hub
from cryptolens.stream.price import PricePoller
from cryptolens.stream.source import lead_through_redis, listen_through_redis, tail_locally

log = logging.getLogger(__name__)

#: Channels one connection may follow at once.
MAX_CHANNELS = 20
#: Credential checks in flight at once (each a database read in a worker thread).
RECHECKS_AT_ONCE = 4


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(settings: Settings) -> frozenset[str]:
    """The pages' origin (PUBLIC_URL); outside production also its other loopback spelling
    (a developer may open http://localhost:5000 or http://127.0.0.1:5000)."""
    origin = origin_of(settings.resolved_public_url)
    found = {origin}
    if not settings.is_production:
        for one, other in (("//127.0.0.1", "//localhost"), ("//localhost", "//127.0.0.1")):
            if one in origin:
                found.add(origin.replace(one, other))
    return frozenset(found)


class Gateway:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        redis_url: str | None = None,
        exchange: Callable[[], ExchangeClient] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.auth = Authenticator(settings, sessionmaker(engine))
        self.hub = Hub(
            queue_size=settings.stream_client_queue,
            max_per_user=settings.stream_max_connections_per_user,
        )
        self.redis_url = redis_url
        self.exchange = exchange
        self.poller: PricePoller | None = None
        self.origins = allowed_origins(settings)
        self._tasks: list[asyncio.Task[None]] = []
        self._redis: Redis[bytes] | None = None

    # -- requests ---------------------------------------------------------------------------

    def origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        return origin is None or origin.lower() in self.origins

    def cors_headers(self, request: web.Request) -> dict[str, str]:
        origin = request.headers.get("Origin")
        if origin is None or origin.lower() not in self.origins:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }

    def client_ip(self, request: web.Request) -> str | None:
        """The caller's address: the peer's, or the one the trusted proxy appended."""
        if self.settings.trusted_proxies:
            forwarded = [
                a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a
            ]
            if len(forwarded) >= self.settings.trusted_proxies:
                return forwarded[-self.settings.trusted_proxies]
        return request.remote

    def credential(self, request: web.Request) -> Credential | None:
        """An API key (``Authorization: Bearer``) wins; else the session cookie, only from
        an allowed origin (another site's page must not ride on the cookie)."""
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() == "bearer" and key.strip():
            return KeyCredential(key.strip(), self.client_ip(request))
        if not self.origin_allowed(request):
            return None
        return self.auth.session_credential(request.cookies.get(SESSION_COOKIE))

    async def viewer(self, request: web.Request) -> Viewer | Refused:
        credential = self.credential(request)
        if credential is None:
            return Refused("Sign in first (session cookie or API key).")
        return await asyncio.to_thread(self.auth.check, credential)

    # -- background -------------------------------------------------------------------------

    async def recheck(self) -> None:
        """Check every connection's credential again (each distinct one once, a few at a
        time): a revoked key or an ended session closes its connections; a changed plan
        applies at once."""
        groups: dict[Credential, list[Client]] = {}
        for client in self.hub.clients:
            groups.setdefault(client.viewer.credential, []).append(client)
        gate = asyncio.Semaphore(RECHECKS_AT_ONCE)

        async def one(credential: Credential, clients: list[Client]) -> None:
            async with gate:
                try:
                    found = await asyncio.to_thread(self.auth.check, credential)
                except Exception:  # the database away: keep the connections until it is back
                    log.exception("checking a stream credential failed")
                    return
            for client in clients:
                if isinstance(found, Refused):
                    client.close(CloseReason.ENDED)
                else:
                    client.viewer = found

        await asyncio.gather(*(one(c, group) for c, group in groups.items()))

    async def _heartbeat_checks(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stream_heartbeat_seconds)
            await self.recheck()

    async def start(self, app: web.Application) -> None:
        every = self.settings.stream_poll_seconds
        if self.redis_url:
            redis = self._redis = Redis.from_url(self.redis_url, socket_connect_timeout=2.0)
            self._tasks += [
                asyncio.create_task(lead_through_redis(redis, self.engine, every=every)),
                asyncio.create_task(listen_through_redis(redis, self.hub.publish)),
            ]
        else:
            self._tasks.append(
                asyncio.create_task(tail_locally(self.engine, self.hub.publish, every=every))
            )
        self._tasks.append(asyncio.create_task(self._heartbeat_checks()))
        if self.exchange is not None:
            self.poller = PricePoller(
                self.hub, self.exchange, per_second=self.settings.stream_price_polls_per_second
            )
            self._tasks.append(asyncio.create_task(self.poller.run()))

    async def stop(self, app: web.Application) -> None:
        self.hub.close_all(CloseReason.SHUTDOWN)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._redis is not None:
            await self._redis.aclose()  # type: ignore[attr-defined]  # newer than the stubs
