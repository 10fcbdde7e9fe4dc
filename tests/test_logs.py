from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from cryptolens import create_app
from cryptolens.logs import configure_logging, redact, request_id_bound
from cryptolens.web.access import public
from tests.builders.settings import make_settings


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /auth/reset/abc-DEF_1 200", "GET /auth/reset/[redacted] 200"),
        ("GET /auth/verify/abc?next=/", "GET /auth/verify/[redacted]?next=/"),
        ("https://h/account/email/confirm/abc", "https://h/account/email/confirm/[redacted]"),
        ("/api/x?token=abc&b=1&API_KEY=zz", "/api/x?token=[redacted]&b=1&API_KEY=[redacted]"),
        ("POST /auth/verify/resend 200", "POST /auth/verify/resend 200"),
        ("GET /symbols/BTC/USDT 200", "GET /symbols/BTC/USDT 200"),
    ],
)
def test_redact_hides_tokens_in_paths_and_queries_and_nothing_else(
    line: str, expected: str
) -> None:
    assert redact(line) == expected


def test_request_and_error_logs_name_token_paths_without_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(instance_dir=tmp_path, log_level="DEBUG"))

    @app.get("/auth/reset/<token>/explode")
    @public
    def explode(token: str) -> str:
        raise RuntimeError("boom")

    logging.getLogger("cryptolens").propagate = True
    try:
        with caplog.at_level(logging.DEBUG, logger="cryptolens"):
            assert app.test_client().get("/auth/reset/s3cr3t-reset/explode").status_code == 500
    finally:
        logging.getLogger("cryptolens").propagate = False
    lines = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("GET /auth/reset/[redacted]/explode 500") for line in lines)
    assert any("unhandled error on GET /auth/reset/[redacted]/explode" in line for line in lines)
    assert all("s3cr3t" not in line for line in lines)


def test_any_cryptolens_log_line_is_redacted_on_the_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_app(make_settings(instance_dir=tmp_path, log_level="DEBUG"))
    logging.getLogger("cryptolens.somewhere").warning("opened %s", "/auth/reset/s3cr3t")
    logged = capsys.readouterr().err
    assert "opened /auth/reset/[redacted]" in logged
    assert "s3cr3t" not in logged


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _log_to(stream: io.StringIO, log_format: str, tmp_path: Path) -> str:
    configure_logging(make_settings(instance_dir=tmp_path, log_format=log_format), stream)
    with request_id_bound("req-9"):
        logging.getLogger("cryptolens.somewhere").warning("disk %s", "nearly full")
    return stream.getvalue()


def test_colored_format_colours_only_a_terminal(tmp_path: Path) -> None:
    on_terminal = _log_to(_Terminal(), "colored", tmp_path)
    in_a_file = _log_to(io.StringIO(), "colored", tmp_path)
    assert "\x1b[33mWARNING\x1b[0m" in on_terminal
    assert "\x1b[" not in in_a_file
    assert "WARNING cryptolens.somewhere: disk nearly full [rid=req-9]" in in_a_file
    assert "\x1b[" not in _log_to(_Terminal(), "text", tmp_path)  # text: never coloured


def test_json_format_lines_parse_and_carry_the_request_id(tmp_path: Path) -> None:
    [line] = _log_to(io.StringIO(), "json", tmp_path).splitlines()
    record = json.loads(line)
    assert record["message"] == "disk nearly full"
    assert record["level"] == "WARNING"
    assert record["request_id"] == "req-9"


def test_log_format_names_its_choices() -> None:
    with pytest.raises(ValidationError, match="'text', 'colored' or 'json'"):
        make_settings(log_format="rainbow")
