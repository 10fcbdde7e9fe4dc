from __future__ import annotations

import importlib
import sys
from types import ModuleType

import pytest

CLEAN = ("DATABASE_URL", "WEB_WORKERS", "HOST", "PORT", "CRYPTOLENS_ENV")


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for name in CLEAN:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("cryptolens.gunicorn_conf", None)
    return importlib.import_module("cryptolens.gunicorn_conf")


def test_sqlite_caps_the_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 32)
    conf = _load(monkeypatch)
    assert conf.workers == 4


def test_server_databases_scale_with_cpus_up_to_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 3)
    conf = _load(monkeypatch, DATABASE_URL="postgresql+psycopg://u@h/db")
    assert conf.workers == 7
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 64)
    assert _load(monkeypatch, DATABASE_URL="postgresql+psycopg://u@h/db").workers == 16


def test_bind_and_explicit_workers_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _load(monkeypatch, HOST="127.0.0.2", PORT="8080", WEB_WORKERS="3")
    assert conf.bind == "127.0.0.2:8080"
    assert conf.workers == 3


def test_no_permissive_umask_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _load(monkeypatch)
    assert not hasattr(conf, "umask")


def test_the_access_log_never_shows_an_emailed_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    conf = _load(monkeypatch)
    assert conf.logger_class is conf.RedactingLogger
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/auth/reset/s3cr3t-token?next=/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/auth/reset/s3cr3t-token",
        "QUERY_STRING": "token=other-s3cr3t",
    }
    request = SimpleNamespace(headers=[("REFERER", "https://x/account/email/confirm/s3cr3t")])
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    atoms = conf.RedactingLogger(Config()).atoms(response, request, environ, timedelta(0))
    line = conf.RedactingLogger(Config()).cfg.access_log_format % atoms
    assert atoms["r"] == "GET /auth/reset/[redacted]?next=/ HTTP/1.1"
    assert "s3cr3t" not in line
    assert all("s3cr3t" not in str(value) for value in atoms.values())


def test_the_access_log_never_shows_an_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    conf = _load(monkeypatch)
    key = "cl_abcdefghij12_" + "S3cr3t" * 7 + "x"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/signals?api_key={key}&limit=5",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/api/v1/signals",
        "QUERY_STRING": f"api_key={key}&limit=5",
    }
    request = SimpleNamespace(headers=[("REFERER", f"https://x/docs?k={key}")])
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    atoms = conf.RedactingLogger(Config()).atoms(response, request, environ, timedelta(0))
    assert atoms["r"] == "GET /api/v1/signals?api_key=[redacted]&limit=5 HTTP/1.1"
    assert all("S3cr3t" not in str(value) for value in atoms.values())


@pytest.mark.parametrize(
    ("level", "path", "logged"),
    [
        ("INFO", "/static/css/app.css", False),
        ("INFO", "/signals", True),
        ("DEBUG", "/static/css/app.css", True),
    ],
)
def test_static_files_reach_the_access_log_only_at_debug(
    monkeypatch: pytest.MonkeyPatch, level: str, path: str, logged: bool
) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    conf = _load(monkeypatch)
    config = Config()
    config.set("loglevel", level.lower())
    config.set("accesslog", "-")
    logger = conf.RedactingLogger(config)
    lines: list[str] = []
    monkeypatch.setattr(
        logger.access_log, "info", lambda message, *args, **kw: lines.append(message)
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": path,
    }
    request = SimpleNamespace(headers=[])
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    logger.access(response, request, environ, timedelta(0))
    assert bool(lines) is logged
