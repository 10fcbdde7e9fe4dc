"""Moved to ``cryptolens.runtime``; kept only for branches merged in parallel (delete once
nothing imports it)."""

from __future__ import annotations

from cryptolens.runtime import app_redis, app_settings

__all__ = ["app_redis", "app_settings"]
