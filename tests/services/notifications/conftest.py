"""Notification service fixtures: a clean migrated database (SQLite, or TEST_DATABASE_URL),
settings with a public address (and, for delivery, the local ntfy server and SMTP sink), and
the plans switch put back after a test turns plans off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.services.accounts import policy
from tests.builders.db import clear_tables
from tests.builders.notify_servers import NtfyServer
from tests.builders.settings import make_settings


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


@pytest.fixture
def alerts_engine(engine: Engine) -> Engine:
    return engine


@pytest.fixture
def alert_settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url, public_url="https://lens.example.com")


@pytest.fixture
def plans_off() -> Iterator[None]:
    policy.configure(plans_enabled=False)
    yield
    policy.configure(plans_enabled=True)


@pytest.fixture
def notify_settings(
    database_url: str, tmp_path: Path, ntfy_server: NtfyServer, smtp_server: tuple[object, int]
) -> Settings:
    return make_settings(
        database_url=database_url,
        instance_dir=tmp_path / "instance",
        ntfy_default_url=ntfy_server.url,
        public_url="https://cryptolens.test",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        smtp_security="none",
        mail_sender="CryptoLens <alerts@cryptolens.test>",
        notify_timeout_seconds=5,
    )
