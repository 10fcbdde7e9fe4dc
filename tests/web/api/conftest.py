"""API fixtures: an exchange address that refuses at once (actions queue real work without
Redis; it must fail fast, never reach the internet), Premium and admin users with keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from cryptolens.config import Settings
from tests.builders.api import CLOSED_EXCHANGE
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import Person, make_user


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url=database_url,
        instance_dir=tmp_path / "instance",
        exchange_api_url=CLOSED_EXCHANGE,
    )


@pytest.fixture
def premium_user(app: Flask) -> Person:
    return make_user(app, "premium@example.com", plan="premium")


@pytest.fixture
def admin_user(app: Flask) -> Person:
    return make_user(app, "admin@example.com", admin=True)
