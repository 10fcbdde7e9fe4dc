"""Stream fixtures: settings with a fast heartbeat and event poll, the web app (to sign in
with), and a real gateway on loopback reading the same database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine

from cryptolens.config import Settings
from tests.builders.db import add_symbol
from tests.builders.settings import make_settings
from tests.builders.stream import ORIGIN, GatewayServer, SseClient


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url=database_url,
        instance_dir=tmp_path / "instance",
        public_url=ORIGIN,
        stream_heartbeat_seconds=0.5,
        stream_poll_seconds=0.05,
    )


@pytest.fixture
def gateway(settings: Settings, migrated_engine: Engine, app: Flask) -> Iterator[GatewayServer]:
    server = GatewayServer(settings, migrated_engine).start()
    yield server
    server.stop()


@pytest.fixture
def btc(migrated_engine: Engine, app: Flask) -> int:
    return add_symbol(migrated_engine, "BTC/USDT")


@pytest.fixture
def eth(migrated_engine: Engine, app: Flask) -> int:
    return add_symbol(migrated_engine, "ETH/USDT")


@pytest.fixture
def sse(gateway: GatewayServer) -> Iterator[Callable[..., SseClient]]:
    """Open SSE clients to the gateway; all closed afterwards."""
    opened: list[SseClient] = []

    def open_client(channels: str, **options: Any) -> SseClient:
        client = SseClient(gateway.port, channels, **options)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()
