"""Shared fixtures: settings, a migrated database (SQLite, or TEST_DATABASE_URL), app, client.

Tests that touch the database get the ``db`` marker and tests that need Redis the ``redis``
marker automatically, so CI can re-run exactly those against MariaDB, PostgreSQL and Redis.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.base import Base
from cryptolens.db.engine import create_engine_for
from cryptolens.extensions import db

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def make_settings(**overrides: object) -> Settings:
    """Test settings that ignore any .env file; keyword overrides use field names."""
    values: dict[str, object] = {
        "environment": "testing",
        "secret_key": TEST_SECRET,
        "redis_url": None,
        "exchange_api_url": None,
        "log_level": "WARNING",
        # argon2 at its cheapest: the production cost is measured in the README, not here.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


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


def clear_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url=database_url, instance_dir=tmp_path / "instance")


@pytest.fixture
def app(settings: Settings, migrated_engine: Engine) -> Iterator[Flask]:
    application = create_app(settings)
    yield application
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
