"""The gateway's aiohttp application and its entry point (``cryptolens stream``)."""

from __future__ import annotations

from aiohttp import web

from cryptolens.config import Settings
from cryptolens.runtime import build
from cryptolens.stream.gateway import Gateway
from cryptolens.stream.sse import GATEWAY, stream_events
from cryptolens.stream.ws import stream_socket


async def health(request: web.Request) -> web.Response:
    hub = request.app[GATEWAY].hub
    return web.json_response(
        {"status": "ok", "connections": len(hub.clients), "dropped": hub.dropped}
    )


def make_app(gateway: Gateway) -> web.Application:
    app = web.Application()
    app[GATEWAY] = gateway
    app.router.add_get("/stream", stream_events)
    app.router.add_get("/ws", stream_socket)
    app.router.add_get("/stream/health", health)
    app.on_startup.append(gateway.start)
    app.on_shutdown.append(gateway.stop)
    return app


def gateway_for(settings: Settings, *, live_price: bool = True) -> Gateway:
    """The gateway of ``settings``: its database, Redis (when set) and exchange."""
    runtime = build(settings)
    return Gateway(
        settings,
        runtime.engine,
        redis_url=settings.redis_url,
        exchange=runtime.exchange if live_price else None,
    )


def serve(settings: Settings, *, host: str, port: int) -> None:
    """Serve until interrupted."""
    web.run_app(
        make_app(gateway_for(settings)),
        host=host,
        port=port,
        print=None,
        shutdown_timeout=5.0,
        access_log=None,
    )
