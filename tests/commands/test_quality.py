"""``cryptolens quality train|list`` on stored real BTC/USD hours."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import Engine

from cryptolens import create_app
from cryptolens.cli import cli
from cryptolens.detect import Candles
from cryptolens.extensions import db
from cryptolens.market.simulator.demo import demo_datasets
from tests.builders.cli import Invoke
from tests.builders.db import add_symbol, clear_tables, store
from tests.builders.settings import make_settings

pytestmark = pytest.mark.db


@pytest.fixture
def run(migrated_engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Invoke]:
    clear_tables(migrated_engine)
    settings = make_settings(
        database_url=database_url,
        base_timeframe="1h",
        timeframes=("1h", "4h"),
        instance_dir=tmp_path / "instance",
    )
    ds = demo_datasets()["BTC/USDT"]
    hours = Candles(ds.open_time, ds.open, ds.high, ds.low, ds.close, ds.volume)[: 150 * 24]
    apps: list[Flask] = []

    def invoke(*args: str) -> Result:
        app = create_app(settings)
        apps.append(app)
        with app.app_context():
            return app.test_cli_runner().invoke(cli, args=list(args))

    invoke.store = lambda: store(  # type: ignore[attr-defined]
        migrated_engine, settings, add_symbol(migrated_engine, "BTC/USDT"), hours
    )
    yield invoke
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    clear_tables(migrated_engine)


def test_train_saves_a_versioned_model_with_its_card_and_list_shows_it(
    run: Invoke, tmp_path: Path
) -> None:
    assert "no model in" in run("quality", "list").output
    empty = run("quality", "train")
    assert empty.exit_code != 0
    assert "no stored candles to train on" in empty.output
    assert "Traceback" not in empty.output
    run.store()  # type: ignore[attr-defined]
    answer = run("quality", "train")
    assert answer.exit_code == 0, answer.output
    assert "saved model" in answer.output
    assert "AUC" in answer.output
    cards = list((tmp_path / "instance" / "models").glob("zone-quality-*.json"))
    assert len(cards) == 1
    card = json.loads(cards[0].read_text())
    assert card["data"]["symbols"] == ["BTC/USDT"]
    assert card["data"]["from"].startswith("2017-07")
    assert cards[0].with_suffix(".joblib").is_file()
    assert f"{card['version']} (in use)" in run("quality", "list").output
