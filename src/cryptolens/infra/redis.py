"""Redis connections with bounded timeouts, so a dead Redis degrades health instead of hanging."""

from __future__ import annotations

from redis import Redis

CONNECT_TIMEOUT_SECONDS = 2.0


def redis_from_url(url: str) -> Redis[bytes]:
    return Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=30,
    )
