from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cryptolens import create_app
from cryptolens.web import middleware
from tests.builders.settings import make_settings


def _records_for(path: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> list[int]:
    app = create_app(make_settings(instance_dir=tmp_path, log_level="DEBUG"))
    logging.getLogger("cryptolens").propagate = True
    try:
        with caplog.at_level(logging.DEBUG, logger="cryptolens.request"):
            app.test_client().get(path)
    finally:
        logging.getLogger("cryptolens").propagate = False
    return [r.levelno for r in caplog.records if r.name == "cryptolens.request"]


def test_fast_requests_log_at_debug(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert _records_for("/api/health/live", tmp_path, caplog) == [logging.DEBUG]


def test_slow_requests_log_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(middleware, "SLOW_SECONDS", 0.0)
    assert _records_for("/api/health/live", tmp_path, caplog) == [logging.WARNING]


def test_json_log_format_writes_one_object_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    app = create_app(make_settings(instance_dir=tmp_path, log_level="DEBUG", log_format="json"))
    app.test_client().get("/api/health/live", headers={"X-Request-ID": "req-1"})
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    request_logs = [r for r in records if r["logger"] == "cryptolens.request"]
    assert request_logs
    assert request_logs[0]["request_id"] == "req-1"
    assert request_logs[0]["level"] == "DEBUG"
