"""Web fixtures: settings that send the app's email to the local SMTP server, a Premium client."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cryptolens.config import Settings
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import signed_in_client


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp_server: tuple[object, int]) -> Settings:
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
