"""``cryptolens up``: the demo login from any directory, and a restarted demo's market clock."""

from __future__ import annotations

import contextlib
import json
import socket
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens import create_app
from cryptolens.commands.up import (
    DEMO_START,
    _announce_demo_login,
    _demo_start_at,
    _start_stream_gateway,
)
from cryptolens.domain.timeframes import datetime_to_ms
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.market.clock import record_market_now
from tests.builders.db import clear_tables
from tests.builders.settings import TEST_SECRET, make_settings


@pytest.fixture
def app(migrated_engine: Engine, database_url: str) -> Iterator[Flask]:
    clear_tables(migrated_engine)
    # A relative instance folder, as the default is: it is taken from the working directory.
    app = create_app(make_settings(database_url=database_url, instance_dir=Path("instance")))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    clear_tables(migrated_engine)


def test_the_demo_login_is_written_from_a_directory_without_an_instance_folder(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _announce_demo_login(app_settings(app))
    note = tmp_path / "instance" / "demo-login.txt"
    email, password = note.read_text(encoding="utf-8").split()
    assert f"with password {password}" in (out := capsys.readouterr().out)
    assert note.stat().st_mode & 0o777 == 0o600
    assert f"as {email}" in out


def test_the_demo_login_is_printed_when_it_cannot_be_written(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "instance").write_text("a file where the folder should be", encoding="utf-8")
    _announce_demo_login(app_settings(app))
    out = capsys.readouterr().out
    assert "with password " in out
    assert "also in" not in out


def test_a_first_demo_starts_its_market_at_the_demo_start(app: Flask) -> None:
    assert _demo_start_at(app_settings(app)).startswith(DEMO_START)


def test_a_restarted_demo_resumes_its_market_where_the_stored_clock_stopped(
    app: Flask, migrated_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped = datetime_to_ms(datetime.fromisoformat("2019-02-03T04:00:00+00:00"))
    with Session(migrated_engine) as session, session.begin():
        record_market_now(session, exchange="binance", now_ms=stopped)
    assert _demo_start_at(app_settings(app)) == "2019-02-03T04:00:00+00:00"
    assert "resumes at 2019-02-03 04:00 UTC" in capsys.readouterr().out


def test_up_starts_the_stream_gateway_and_points_the_pages_at_it(
    app: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    for name, value in {
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = app_settings(app).model_copy(update={"stream_port": port})
    assert app_settings(app).stream_public_url is None
    with contextlib.ExitStack() as stack:
        _start_stream_gateway(stack, settings)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stream/health", timeout=5) as answer:
            assert json.loads(answer.read())["status"] == "ok"
        policy = app.test_client().get("/").headers["Content-Security-Policy"]
    pointed = app_settings(app)
    assert pointed.stream_public_url == f"http://127.0.0.1:{port}"
    assert pointed.model_copy(update={"stream_pages": True}).page_stream_url == (
        f"http://127.0.0.1:{port}/stream"
    )
    assert f"connect-src 'self' http://127.0.0.1:{port};" in policy
