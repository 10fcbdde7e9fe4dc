"""Shared fixtures: settings, a migrated database (SQLite, or TEST_DATABASE_URL), app, client,
and real local servers: SMTP (aiosmtpd) with the mailbox it fills, ntfy and a webhook receiver.

Tests that touch the database get the ``db`` marker and tests that need Redis the ``redis``
marker automatically, so CI can re-run exactly those against MariaDB, PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.base import Base
from cryptolens.db.engine import create_engine_for
from cryptolens.extensions import db
from cryptolens.services.ops.background import wait_for_background
from tests.builders.db import clear_tables
from tests.builders.notify_servers import NtfyServer, WebhookServer
from tests.builders.payment_servers import LemonSqueezyServer, NowPaymentsServer
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Mailbox


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "migrated_engine" in names:
            item.add_marker(pytest.mark.db)
        if "redis_url" in names:
            item.add_marker(pytest.mark.redis)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


def _drop_everything(engine: Engine) -> None:
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def migrated_engine(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    settings = make_settings(
        database_url=database_url, instance_dir=tmp_path_factory.mktemp("instance")
    )
    engine = create_engine_for(settings)
    _drop_everything(engine)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url=database_url, instance_dir=tmp_path / "instance")


@pytest.fixture
def app(settings: Settings, migrated_engine: Engine) -> Iterator[Flask]:
    application = create_app(settings)
    yield application
    # Background email threads finish before the app's engine goes.
    wait_for_background()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    clear_tables(migrated_engine)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set")
    return url


class _Collector:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[_Collector, int]]:
    collector = _Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield collector, port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[_Collector, int]) -> Mailbox:
    collector, _ = smtp_server
    collector.messages.clear()
    return Mailbox(collector.messages)


@pytest.fixture
def ntfy_server() -> Iterator[NtfyServer]:
    """An ntfy-compatible server on 127.0.0.1 that records what it is sent."""
    server = NtfyServer().start()
    yield server
    server.stop()


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    """A webhook receiver on 127.0.0.1 that records what it is sent."""
    server = WebhookServer().start()
    yield server
    server.stop()


@pytest.fixture
def ls_server() -> Iterator[LemonSqueezyServer]:
    """LemonSqueezy's API (checkouts, cancellation, a checkout page) on 127.0.0.1."""
    server = LemonSqueezyServer().start()
    yield server
    server.stop()


@pytest.fixture
def np_server() -> Iterator[NowPaymentsServer]:
    """NOWPayments' API (invoices) on 127.0.0.1."""
    server = NowPaymentsServer().start()
    yield server
    server.stop()
