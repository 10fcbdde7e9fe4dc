"""Fixtures for exchange-side market tests: simulator servers over exact test data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cryptolens.market.simulator import Dataset, SimulatorServer
from tests.builders.market import SimFactory, exact_dataset


@pytest.fixture
def make_sim() -> Iterator[SimFactory]:
    """Start simulators (frozen clock unless ``speed`` is given); all stopped afterwards."""
    started: list[SimulatorServer] = []

    def make(datasets: dict[str, Dataset], **options: Any) -> SimulatorServer:
        options.setdefault("speed", 0.0)
        server = SimulatorServer(datasets, **options).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def minute_data() -> Dataset:
    """Two days of 1m candles from T0."""
    return exact_dataset(2 * 24 * 60)
