"""A local Binance-compatible exchange for demos and tests (spot public REST subset).

Serves ``/api/v3/ping``, ``/time``, ``/exchangeInfo`` and ``/klines`` from candle histories,
with a simulated market clock (forming candles included, as Binance returns them) and fault
injection (rate limits, bans, 5xx, slow answers, disconnects, malformed / duplicated /
missing candles) for testing the exchange client.
"""

from cryptolens.market.simulator.clock import SimClock
from cryptolens.market.simulator.datasets import Dataset, load_dataset, load_multi_symbol
from cryptolens.market.simulator.demo import (
    build_demo_server,
    demo_datasets,
    run_simulator,
    serve,
)
from cryptolens.market.simulator.faults import FaultInjector, FaultKind, FaultRule
from cryptolens.market.simulator.klines import INTERVALS, compute_klines
from cryptolens.market.simulator.server import SimStats, SimulatorServer

__all__ = [
    "INTERVALS",
    "Dataset",
    "FaultInjector",
    "FaultKind",
    "FaultRule",
    "SimClock",
    "SimStats",
    "SimulatorServer",
    "build_demo_server",
    "compute_klines",
    "demo_datasets",
    "load_dataset",
    "load_multi_symbol",
    "run_simulator",
    "serve",
]
