from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cryptolens import create_app
from cryptolens.logs import current_request_id
from cryptolens.web import middleware
from cryptolens.web.access import public
from tests.builders.settings import make_settings


def _records_for(path: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> list[int]:
    app = create_app(make_settings(instance_dir=tmp_path, log_level="DEBUG"))
    logging.getLogger("cryptolens").propagate = True
    try:
        with caplog.at_level(logging.DEBUG, logger="cryptolens.request"):
            app.test_client().get(path).close()
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


def test_static_files_are_never_logged_at_info_even_when_slow(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(middleware, "SLOW_SECONDS", 0.0)
    monkeypatch.setattr(middleware, "NOTABLE_SECONDS", 0.0)
    assert _records_for("/static/favicon.svg", tmp_path, caplog) == [logging.DEBUG]
    caplog.clear()
    # The same slowness on a page is still a warning.
    assert _records_for("/api/health/live", tmp_path, caplog) == [logging.WARNING]


def test_every_line_of_a_request_carries_its_id_and_the_id_is_gone_after(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(instance_dir=tmp_path, log_level="DEBUG"))

    @app.get("/speaks")
    @public
    def speaks() -> str:
        logging.getLogger("cryptolens.somewhere").info("inside the view")
        return "ok"

    logging.getLogger("cryptolens").propagate = True
    try:
        with caplog.at_level(logging.DEBUG, logger="cryptolens"):
            app.test_client().get("/speaks", headers={"X-Request-ID": "req-7"})
    finally:
        logging.getLogger("cryptolens").propagate = False
    inside = next(r for r in caplog.records if r.getMessage() == "inside the view")
    assert inside.request_id == "req-7"  # type: ignore[attr-defined]
    assert current_request_id() is None
