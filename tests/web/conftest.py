"""Web fixtures: a real local SMTP server (aiosmtpd) the app sends its email to."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from cryptolens.config import Settings
from cryptolens.services.ops.background import wait_for_background
from tests.conftest import make_settings
from tests.web.accounts_helpers import Mailbox, signed_in_client


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
def app(app: Flask) -> Iterator[Flask]:
    """The shared app, whose background email threads finish before its engine goes."""
    yield app
    wait_for_background()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp_server: tuple[_Collector, int]) -> Settings:
    return make_settings(
        database_url=database_url,
        instance_dir=tmp_path / "instance",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        smtp_security="none",
        mail_sender="CryptoLens <no-reply@cryptolens.test>",
    )


@pytest.fixture
def premium(app: Flask) -> FlaskClient:
    """A client signed in as a verified Premium user: the market pages without plan caps."""
    return signed_in_client(app, "premium@example.com", plan="premium")
