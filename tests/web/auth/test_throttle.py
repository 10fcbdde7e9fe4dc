"""The sign-in throttle counts every attempt before the password is checked, in a store all
workers share (the database, or Redis when configured), and says when to retry."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cryptolens import create_app
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts.passwords import Passwords
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import csrf_token, make_user, post_form

WRONG = "not the password at all"


def _login(client: FlaskClient, email: str, password: str, ip: str) -> TestResponse:
    return post_form(
        client,
        "/auth/login",
        {"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def _unique_ip() -> str:
    """A client address no earlier run used (Redis keeps per-IP counts between runs)."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2] or 1}"


@pytest.fixture
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Every password hash checked, from any thread."""
    checked: list[str | None] = []
    lock = threading.Lock()
    real_verify = Passwords.verify

    def counting(self: Passwords, stored: str | None, password: str) -> bool:
        with lock:
            checked.append(stored)
        return real_verify(self, stored, password)

    monkeypatch.setattr(Passwords, "verify", counting)
    return checked


def test_nineteen_parallel_wrong_passwords_check_the_hash_at_most_five_times(
    app: Flask, hash_checks: list[str | None]
) -> None:
    user = make_user(app, "parallel@example.com")
    clients = [app.test_client() for _ in range(19)]
    tokens = [csrf_token(client) for client in clients]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    lock = threading.Lock()

    def attack(client: FlaskClient, token: str) -> None:
        barrier.wait()
        answer = client.post(
            "/auth/login", data={"csrf_token": token, "email": user.email, "password": WRONG}
        )
        with lock:
            statuses.append(answer.status_code)

    threads = [
        threading.Thread(target=attack, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {400, 429}  # a subset: all 429 is allowed too
    assert len(hash_checks) <= 5
    assert statuses.count(400) == len(hash_checks)


_WORKER = """
import sys
from tests.builders.settings import make_settings
from tests.web.accounts_helpers import csrf_token
from cryptolens import create_app

database_url, email, password, ip, attempts = sys.argv[1:6]
app = create_app(make_settings(database_url=database_url, instance_dir=sys.argv[6]))
client = app.test_client()
for _ in range(int(attempts)):
    data = {"csrf_token": csrf_token(client), "email": email, "password": password}
    print(client.post("/auth/login", data=data, environ_base={"REMOTE_ADDR": ip}).status_code)
"""


def _other_worker(app: Flask, tmp_path: Path, *args: str) -> list[int]:
    """Sign-in attempts from another process on the same database, as another gunicorn
    worker would make them (its own memory, nothing shared but the database)."""
    settings = app_settings(app)
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, settings.resolved_database_url, *args, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    return [int(line) for line in done.stdout.split()]


@pytest.mark.slow
def test_two_worker_processes_share_the_count_without_redis(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    user = make_user(app, "workers@example.com")
    ip = "192.0.2.50"
    for _ in range(3):
        assert _login(client, user.email, WRONG, ip).status_code == 400
    assert _other_worker(app, tmp_path, user.email, WRONG, ip, "3") == [400, 400, 429]
    assert _login(client, user.email, user.password, ip).status_code == 429


def test_two_workers_share_the_count_through_redis(
    app: Flask, redis_url: str, tmp_path: Path
) -> None:
    base = app_settings(app)
    settings = make_settings(
        database_url=base.database_url, instance_dir=tmp_path / "redis", redis_url=redis_url
    )
    workers = [create_app(settings), create_app(settings)]
    user = make_user(app, f"redis-{uuid.uuid4().hex[:8]}@example.com")
    ip = _unique_ip()
    clients = [worker.test_client() for worker in workers]
    for attempt in range(5):
        assert _login(clients[attempt % 2], user.email, WRONG, ip).status_code == 400
    assert _login(clients[1], user.email, user.password, ip).status_code == 429
    for worker in workers:
        with worker.app_context():
            db.engine.dispose()


def test_a_refused_sign_in_says_when_to_retry(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "retry@example.com")
    for _ in range(5):
        assert _login(client, user.email, WRONG, "192.0.2.60").status_code == 400
    refused = _login(client, user.email, user.password, "192.0.2.60")
    assert refused.status_code == 429
    assert 800 < int(refused.headers["Retry-After"]) <= 900
    assert re.search(r"Try again in 1[45] minutes", refused.text)


def test_a_successful_sign_in_does_not_use_up_attempts(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, "often@example.com")
    for _ in range(8):
        assert _login(app.test_client(), user.email, user.password, "192.0.2.70").status_code == 302


@pytest.mark.parametrize("email", ["reset-known@example.com", "reset-ghost@example.com"])
def test_reset_requests_are_limited_per_address_known_or_not(
    app: Flask, client: FlaskClient, email: str
) -> None:
    make_user(app, "reset-known@example.com")
    for i in range(3):
        answer = post_form(
            client,
            "/auth/forgot",
            {"email": email},
            form_path="/auth/forgot",
            environ_base={"REMOTE_ADDR": f"198.51.100.{i}"},
        )
        assert answer.status_code == 200
    refused = post_form(client, "/auth/forgot", {"email": email}, form_path="/auth/forgot")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many reset requests for this address" in refused.text
