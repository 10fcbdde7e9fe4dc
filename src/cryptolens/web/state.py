"""Per-app objects stored on ``app.extensions`` by the factory."""

from __future__ import annotations

from flask import Flask
from redis import Redis

from cryptolens.config import Settings

SETTINGS_KEY = "cryptolens.settings"
REDIS_KEY = "cryptolens.redis"


def app_settings(app: Flask) -> Settings:
    settings: Settings = app.extensions[SETTINGS_KEY]
    return settings


def app_redis(app: Flask) -> Redis[bytes] | None:
    client: Redis[bytes] | None = app.extensions.get(REDIS_KEY)
    return client
