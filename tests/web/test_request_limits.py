"""Request bodies are bounded (MAX_REQUEST_BYTES, form memory and parts), chunked ones too,
under the test client, the development server and gunicorn; a view with a limit of its own
(the CSV import's 10 MB) is bounded by that instead, on every server, and a larger body is
told that limit; no server names its version."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.serving import make_server
from werkzeug.test import encode_multipart

from cryptolens import create_app
from cryptolens.db.portfolio import Trade
from cryptolens.extensions import csrf
from cryptolens.runtime import app_settings
from cryptolens.web.access import public
from cryptolens.web.serving import MAX_FORM_PARTS, QuietRequestHandler
from tests.builders.portfolio_web import count_rows, make_trader
from tests.builders.settings import TEST_SECRET, make_settings
from tests.web.accounts_helpers import csrf_token, make_user, sign_in

MIB = 1024 * 1024
FORM = "application/x-www-form-urlencoded"


def test_an_oversized_sign_in_form_is_a_413_page(client: FlaskClient) -> None:
    answer = client.post("/auth/login", data="email=" + "a" * (2 * MIB), content_type=FORM)
    assert answer.status_code == 413
    assert answer.mimetype == "text/html"
    assert "Too Large" in answer.text


def test_a_form_with_too_many_parts_is_a_413(client: FlaskClient) -> None:
    fields = {f"f{i}": "x" for i in range(MAX_FORM_PARTS + 1)}
    answer = client.post("/auth/login", data=fields, content_type="multipart/form-data")
    assert answer.status_code == 413


def test_an_oversized_api_body_is_a_413_envelope(tmp_path: Path) -> None:
    app = create_app(make_settings(instance_dir=tmp_path))

    @app.post("/api/echo")
    @public
    def echo() -> str:
        return str(len(request.get_data()))

    csrf.exempt(echo)
    answer = app.test_client().post("/api/echo", data=b"x" * (2 * MIB))
    assert answer.status_code == 413
    assert answer.json is not None
    assert answer.json["success"] is False


def test_the_request_limit_is_a_setting(tmp_path: Path) -> None:
    app = create_app(make_settings(instance_dir=tmp_path, max_request_bytes=64 * 1024))
    answer = app.test_client().post(
        "/auth/login", data="email=" + "a" * (100 * 1024), content_type=FORM
    )
    assert answer.status_code == 413


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _chunked_flood() -> Iterator[bytes]:
    """A malformed chunked body: one chunk declared as 4 GiB, then 2 MiB of it sent."""
    yield b"FFFFFFFF\r\n"
    for _ in range(32):
        yield b"a" * (64 * 1024)


def _exchange(port: int, head: str, body: Iterable[bytes]) -> str:
    """Send ``head`` and stream ``body`` from a thread while reading the answer here (the
    server may answer before it has read everything): its head, and its body as far as a
    Content-Length says."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode("latin-1"))

        def send() -> None:
            with contextlib.suppress(OSError):  # the server may close once it has answered
                for part in body:
                    sock.sendall(part)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        received = b""
        while b"\r\n\r\n" not in received or len(received) < _answer_length(received):
            data = sock.recv(65536)
            if not data:
                break
            received += data
        return received.decode("latin-1")


def _answer_length(received: bytes) -> int:
    head, _, _ = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return 0


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """``body`` in HTTP/1.1 chunked encoding."""
    for start in range(0, len(body), size):
        part = body[start : start + size]
        yield f"{len(part):X}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def _chunked_head(port: int) -> str:
    return (
        f"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )


def test_the_development_server_stops_a_malformed_chunked_body_at_the_limit(app: Flask) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        answer = _exchange(server.server_port, _chunked_head(server.server_port), _chunked_flood())
    finally:
        server.shutdown()
        server.server_close()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "Server: CryptoLens\r\n" in answer
    assert "Werkzeug" not in answer
    assert "Python/" not in answer


@pytest.fixture
def gunicorn(app: Flask, tmp_path: Path) -> Iterator[int]:
    """A real gunicorn (one worker) on the test database, configured as in production."""
    port = _free_port()
    settings = app_settings(app)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": settings.resolved_database_url,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "REDIS_URL": "",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": "1",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:cryptolens.gunicorn_conf",
            "cryptolens:create_app()",
        ],
        cwd=tmp_path,  # no .env file here
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_gunicorn_refuses_a_large_body_and_a_chunked_flood_without_a_version_banner(
    gunicorn: int,
) -> None:
    declared = (
        f"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1:{gunicorn}\r\n"
        f"Content-Type: {FORM}\r\nContent-Length: {50 * MIB}\r\n\r\n"
    )
    big = _exchange(gunicorn, declared, [b"email=" + b"a" * 65536])
    assert big.startswith("HTTP/1.1 413")
    chunked = _exchange(gunicorn, _chunked_head(gunicorn), _chunked_flood())
    assert chunked.startswith("HTTP/1.1 413"), chunked
    for answer in (big, chunked):
        assert "Server: gunicorn\r\n" in answer  # the name only, no version


@pytest.fixture
def uploader(app: Flask) -> tuple[str, str, int]:
    """A signed-in Pro trader's session cookie, a CSRF token of theirs and their portfolio."""
    person = make_user(app, "uploader@example.com", plan="pro")
    client = app.test_client()
    assert sign_in(client, person).status_code == 302
    trader = make_trader(app, client, person.id)
    token = csrf_token(client, "/portfolio")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return f"{cookie.key}={cookie.value}", token, trader.seeded.portfolio


def _import(port: int, uploader: tuple[str, str, int], data: bytes, *, chunked: bool) -> str:
    """Upload ``data`` to the CSV import through a real server; its whole answer."""
    cookie, token, portfolio = uploader
    upload = FileStorage(io.BytesIO(data), "trades.csv", content_type="text/csv")
    boundary, body = encode_multipart({"csrf_token": token, "file": upload})
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
    head = (
        f"POST /portfolio/{portfolio}/import HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"{length}\r\nConnection: close\r\n\r\n"
    )
    return _exchange(port, head, _chunks(body) if chunked else [body])


#: 2 MB shaped like the CSV download (a header and rows), every row refused by the import.
TWO_MB_CSV = b"trade,symbol,direction\n" + b"1,NOPE,long\n" * (2 * MIB // 12)
#: 11 MB, above the import's own 10 MB.
ELEVEN_MB_CSV = b"trade,symbol\n" + b"1,BTC/USDT\n" * (MIB + MIB // 10)
TOO_LARGE = "Nothing was imported: The file is larger than 10 MB"


@pytest.fixture
def dev_server(app: Flask) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_the_development_server_gives_a_chunked_2_mb_upload_to_the_import(
    app: Flask, dev_server: int, uploader: tuple[str, str, int]
) -> None:
    answer = _import(dev_server, uploader, TWO_MB_CSV, chunked=True)
    assert answer.startswith("HTTP/1.1 400"), answer[:300]
    assert "The header lacks the column(s)" in answer  # read by the import itself
    assert count_rows(app, Trade, portfolio_id=uploader[2]) == 2


def test_the_development_server_refuses_a_chunked_11_mb_upload_naming_the_imports_limit(
    app: Flask, dev_server: int, uploader: tuple[str, str, int]
) -> None:
    answer = _import(dev_server, uploader, ELEVEN_MB_CSV, chunked=True)
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert TOO_LARGE in answer
    assert count_rows(app, Trade, portfolio_id=uploader[2]) == 2


@pytest.mark.slow
def test_gunicorn_gives_a_2_mb_upload_to_the_import_and_refuses_11_mb_naming_its_limit(
    app: Flask, gunicorn: int, uploader: tuple[str, str, int]
) -> None:
    for chunked in (False, True):
        accepted = _import(gunicorn, uploader, TWO_MB_CSV, chunked=chunked)
        assert accepted.startswith("HTTP/1.1 400"), accepted[:300]
        assert "The header lacks the column(s)" in accepted
        refused = _import(gunicorn, uploader, ELEVEN_MB_CSV, chunked=chunked)
        assert refused.startswith("HTTP/1.1 413"), refused[:300]
        assert TOO_LARGE in refused
    assert count_rows(app, Trade, portfolio_id=uploader[2]) == 2
