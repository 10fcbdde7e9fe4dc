"""``cryptolens backfill`` and ``ingest``: exit status and what they print."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cryptolens.db.models import Symbol
from cryptolens.market.simulator import Dataset, FaultKind, FaultRule, SimulatorServer
from tests.builders.cli import Invoke
from tests.builders.db import add_symbol
from tests.builders.market import DAY, T0, exact_dataset


@pytest.fixture
def data() -> Dataset:
    return exact_dataset(24 * 60, seed=5)


@pytest.fixture
def sim(data: Dataset) -> Iterator[SimulatorServer]:
    with SimulatorServer({"BTC/USDT": data}, speed=0.0, start_at_ms=T0 + DAY) as server:
        yield server


def test_backfill_of_an_unlisted_symbol_is_one_line_exit_2_and_watches_nothing(
    engine: Engine, invoke: Invoke
) -> None:
    result = invoke("backfill", "NOPE/USDT", "--since", "2024-01-01")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "NOPE/USDT" in lines[0]
    assert "again" not in lines[0]
    with Session(engine) as session:
        assert session.scalars(select(Symbol)).all() == []


def test_a_complete_backfill_exits_0_and_names_the_stretch_before_the_listing(
    engine: Engine, invoke: Invoke
) -> None:
    result = invoke("backfill", "BTC/USDT", "--since", "2023-12-31T23:49")
    assert result.exit_code == 0, result.output
    assert "gaps left 0 (0 candles)" in result.output
    assert "(11 candles before)" in result.output


def test_ingest_once_exits_1_when_every_symbol_failed(engine: Engine, invoke: Invoke) -> None:
    add_symbol(engine, "NOPE/USDT")
    result = invoke("ingest", "--once")
    assert result.exit_code == 1
    assert "every symbol failed" in result.output


def test_ingest_once_exits_0_when_a_symbol_succeeded(engine: Engine, invoke: Invoke) -> None:
    add_symbol(engine, "NOPE/USDT")
    add_symbol(engine, "BTC/USDT")
    result = invoke("ingest", "--once")
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_retry_log_lines_never_run_into_the_progress_bar(
    engine: Engine, sim: SimulatorServer, database_url: str, tmp_path: Path
) -> None:
    sim.faults.set_rules(
        [FaultRule(FaultKind.SERVER_ERROR, count=2, status=503, endpoints=frozenset({"klines"}))]
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EXCHANGE_API_URL": sim.base_url,
        "INSTANCE_DIR": str(tmp_path),
        "LOG_LEVEL": "INFO",
        "CRYPTOLENS_ENV": "testing",
    }
    command = [sys.executable, "-m", "cryptolens", "backfill", "BTC/USDT", "--since", "2024-01-01"]
    # The bar is only drawn on a terminal: give the command one for its stderr.
    master, slave = pty.openpty()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    terminal = b""
    with contextlib.suppress(OSError):  # EIO once the command has exited
        while chunk := os.read(master, 4096):
            terminal += chunk
    os.close(master)
    process.communicate(timeout=120)
    assert process.returncode == 0, terminal
    lines = [line.split("\r")[-1] for line in terminal.decode().replace("\r\n", "\n").split("\n")]
    retries = [line for line in lines if "retry" in line]
    assert len(retries) == 2, terminal
    assert all(re.match(r"\d{4}-\d\d-\d\d ", line) for line in retries), retries
