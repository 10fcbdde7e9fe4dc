"""CryptoLens: Smart Money Concepts zones across markets and timeframes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptolens.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # The factory lives in cryptolens.app and is imported on first use: importing the pure
    # core (cryptolens.detect, .signals, .domain) must not load Flask, SQLAlchemy or Redis.
    if name == "create_app":
        from cryptolens.app import create_app

        return create_app
    raise AttributeError(f"module 'cryptolens' has no attribute {name!r}")
