"""Entry points: the demo exchange over the shipped history files, and blocking serving.

Demo symbols (so the default ``binance`` + ``BTC/USDT`` configuration has data):

* ``BTC/USDT`` — Coinbase BTC/USD hourly candles, 2017-07-01 → 2019-10-17
* ``BTC/USD``, ``ETH/USD``, ``LTC/USD`` and the ``ETH/USDT``, ``LTC/USDT`` aliases — Bitstamp
  daily candles (these files have a 13-day hole, served as a gap)

Finer intervals (1m by default in CryptoLens) are synthesised inside the real candles.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from cryptolens.market.simulator.datasets import Dataset, load_dataset, load_multi_symbol
from cryptolens.market.simulator.faults import FaultRule
from cryptolens.market.simulator.server import SimulatorServer

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
HOURLY_FILE = "coinbase_btcusd_1h.csv.gz"
DAILY_FILE = "bitstamp_1d.csv.gz"


def demo_datasets(data_dir: Path | None = None) -> dict[str, Dataset]:
    """The demo symbols, read from ``data_dir`` (default: the files shipped in the package)."""
    directory = DEFAULT_DATA_DIR if data_dir is None else Path(data_dir)
    datasets: dict[str, Dataset] = {"BTC/USDT": load_dataset(directory / HOURLY_FILE)}
    for symbol, data in load_multi_symbol(directory / DAILY_FILE).items():
        datasets[symbol] = data
        base = symbol.partition("/")[0]
        datasets.setdefault(f"{base}/USDT", data)
    return datasets


def build_demo_server(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float = 3600.0,
    start_at_ms: int | None = None,
    data_dir: Path | None = None,
    seed: int = 0,
    faults: Iterable[FaultRule] = (),
) -> SimulatorServer:
    """A (not yet started) simulator over the demo datasets.

    Intervals finer than a dataset (the default 1m feed from hourly history) are served from
    synthesised sub-candles that re-aggregate to the real candles' open, high, low and close.

    ``start_at_ms`` None starts the market clock 90 days after the latest first candle
    (2018-02-07 with the shipped files), so every symbol has history behind it and ahead.
    """
    return SimulatorServer(
        demo_datasets(data_dir),
        host=host,
        port=port,
        speed=speed,
        start_at_ms=start_at_ms,
        seed=seed,
        faults=faults,
        synthesize_finer=True,
    )


def _banner(server: SimulatorServer) -> str:
    now = datetime.fromtimestamp(server.now_ms() / 1000, tz=UTC).isoformat(timespec="seconds")
    symbols = ", ".join(listing.symbol for listing in server.book.listings())
    return (
        f"CryptoLens exchange simulator on {server.base_url} "
        f"(market time {now}, speed x{server.clock.speed:g}; symbols: {symbols})"
    )


def serve(
    host: str,
    port: int,
    datasets: Mapping[str, Dataset],
    speed: float,
    start_at: int | None,
    *,
    seed: int = 0,
    faults: Iterable[FaultRule] = (),
    ready: Callable[[SimulatorServer], None] | None = None,
) -> None:
    """Serve ``datasets`` until interrupted (Ctrl-C); ``ready`` is called once bound."""
    server = SimulatorServer(
        datasets, host=host, port=port, speed=speed, start_at_ms=start_at, seed=seed, faults=faults
    )
    _serve_blocking(server, ready)


def run_simulator(
    host: str,
    port: int,
    *,
    speed: float,
    start_at_ms: int | None,
    data_dir: Path | None,
) -> None:
    """What ``cryptolens exchange-sim`` runs: the demo exchange, blocking until Ctrl-C."""
    server = build_demo_server(
        host=host, port=port, speed=speed, start_at_ms=start_at_ms, data_dir=data_dir
    )
    _serve_blocking(server, None)


def _serve_blocking(
    server: SimulatorServer, ready: Callable[[SimulatorServer], None] | None
) -> None:
    print(_banner(server), flush=True)
    if ready is not None:
        ready(server)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
