"""Fixtures for the notification services: a clean database and settings whose ntfy default
server is the local one and whose SMTP server is the local sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cryptolens.config import Settings
from tests.builders.db import clear_tables
from tests.builders.notify_servers import NtfyServer
from tests.builders.settings import make_settings


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


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
