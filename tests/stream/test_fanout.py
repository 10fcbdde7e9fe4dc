"""Two gateway processes (``cryptolens stream``) sharing Redis: one reads the events table
and publishes, both deliver every event to their own clients."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import Engine

from cryptolens.stream.source import LEADER_KEY, POSITION_KEY
from tests.builders.settings import TEST_SECRET
from tests.builders.stream import ORIGIN, SseClient, free_port, record, session_cookie, signal_event


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stream/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the gateway did not start")


@pytest.fixture
def two_gateways(
    redis_url: str, database_url: str, tmp_path: Path, app: Flask
) -> Iterator[list[int]]:
    redis = Redis.from_url(redis_url)
    redis.delete(LEADER_KEY, POSITION_KEY)
    env = {
        **os.environ,
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "REDIS_URL": redis_url,
        "PUBLIC_URL": ORIGIN,
        "STREAM_POLL_SECONDS": "0.05",
        "LOG_LEVEL": "WARNING",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "cryptolens", "stream", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_until_up(port, process)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
            if process.stderr:
                process.stderr.close()
        redis.delete(LEADER_KEY, POSITION_KEY)
        redis.close()


def test_an_event_reaches_the_clients_of_both_gateways_once(
    two_gateways: list[int], app: Flask, migrated_engine: Engine, btc: int, redis_url: str
) -> None:
    cookie = session_cookie(app, "fan@example.com", "premium")
    clients = [SseClient(port, "signals", cookie=cookie) for port in two_gateways]
    try:
        for client in clients:
            assert client.events(1)[0].type == "hello"
        time.sleep(0.3)  # a leader has been chosen
        assert Redis.from_url(redis_url).get(LEADER_KEY) is not None
        record(migrated_engine, signal_event(btc, 77), signal_event(btc, 78))
        seen = [[(e.id, e.data["id"]) for e in client.events(2)] for client in clients]
        assert seen[0] == seen[1]
        assert [signal for _, signal in seen[0]] == [77, 78]
    finally:
        for client in clients:
            client.close()
