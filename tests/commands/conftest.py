"""Fixtures for in-process command tests: a clean database and a runner of ``cryptolens ARGS``
against it and the module's ``sim`` (each test module defines its own simulator)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import Engine

from cryptolens import create_app
from cryptolens.cli import cli
from cryptolens.extensions import db
from cryptolens.market.simulator import SimulatorServer
from tests.builders.cli import Invoke
from tests.builders.db import clear_tables
from tests.builders.settings import make_settings


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    clear_tables(migrated_engine)
    yield migrated_engine
    clear_tables(migrated_engine)


@pytest.fixture
def invoke(
    engine: Engine, database_url: str, sim: SimulatorServer, tmp_path: Path
) -> Iterator[Invoke]:
    """Run ``cryptolens ARGS`` in-process on an app pointed at the database and simulator."""
    apps: list[Flask] = []

    def run(*args: str) -> Result:
        settings = make_settings(
            database_url=database_url,
            exchange_api_url=sim.base_url,
            instance_dir=tmp_path / "instance",
        )
        app = create_app(settings)
        apps.append(app)
        # The ``cryptolens`` group runs commands in an app context already pushed.
        with app.app_context():
            return app.test_cli_runner().invoke(cli, args=list(args))

    yield run
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
