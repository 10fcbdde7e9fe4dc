"""Alert fixtures: a clean migrated database (SQLite, or TEST_DATABASE_URL), settings with a
public address, and the plans switch put back after a test turns plans off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.services.accounts import policy
from tests.builders.db import clear_tables
from tests.builders.settings import make_settings


@pytest.fixture
def alerts_engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


@pytest.fixture
def alert_settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url, public_url="https://lens.example.com")


@pytest.fixture
def plans_off() -> Iterator[None]:
    policy.configure(plans_enabled=False)
    yield
    policy.configure(plans_enabled=True)
