"""The backtesting.py side of ``bench/backtest_compare.py``: runs ONLY in the compare venv.

backtesting.py is AGPL-licensed, so it is never a dependency of CryptoLens: it lives in a venv
of its own, outside the project's, and only this script imports it. Set-up (once):

    python3 -m venv bench/.venv-compare          # git-ignored (.venv-*/)
    bench/.venv-compare/bin/pip install backtesting numpy pandas

Measured with backtesting 0.6.6, numpy 2.4.6, pandas 3.1.1. Run through the project-side
script (``python bench/backtest_compare.py``), which writes the inputs and reads the output:

    bench/.venv-compare/bin/python bench/compare_backtestingpy.py DIR [--repeat 3]

``DIR`` holds ``candles.npz`` (open_time in epoch ms, open, high, low, close, volume) and
``orders.json`` (the settings and one entry per order: tag, direction, entry, stop, target,
created_at, expires_at, max_hold_ms). Prints one JSON object: the trades, the final equity, the
times of ``Backtest.run`` and the backtesting.py version.

How the orders are expressed: each order is placed in ``next()`` of the candle that closes at
its ``created_at`` as a limit entry of ``size`` units with a contingent stop (``sl``) and
target (``tp``), tagged with its index; backtesting.py tries it from the next candle on, as
CryptoLens does. ``next()`` cancels an entry still pending when the next candle opens at or
after its ``expires_at``, and closes a trade whose candle closes ``max_hold_ms`` or more after
its fill candle closed; with ``trade_on_close=True`` that close fills at the candle's close (the
timeout rule of CryptoLens), while the limit, stop and target orders are unaffected by it.
``hedging=True`` keeps every order its own trade (an opposite order does not close an open
one), ``exclusive_orders=False`` keeps earlier trades open, and ``finalize_trades=True`` closes
what is still open at the last close. The commission rate applies to every fill's value.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import backtesting
import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy


def load(directory: Path) -> tuple[pd.DataFrame, Any, dict[str, Any]]:
    with np.load(directory / "candles.npz") as raw:
        columns = {name: raw[name] for name in raw.files}
    frame = pd.DataFrame(
        {
            "Open": columns["open"],
            "High": columns["high"],
            "Low": columns["low"],
            "Close": columns["close"],
            "Volume": columns["volume"],
        },
        index=pd.to_datetime(columns["open_time"], unit="ms", utc=True),
    )
    with (directory / "orders.json").open(encoding="utf-8") as handle:
        spec = json.load(handle)
    return frame, columns["open_time"].astype(np.int64), spec


def strategy_for(open_time: Any, spec: dict[str, Any]) -> type[Strategy]:
    """A Strategy class that places, expires and times out the given orders."""
    step = int(spec["step_ms"])
    size = spec["size"]
    orders = spec["orders"]
    # Bar whose close is the order's created_at: its next() places the order.
    by_bar: dict[int, list[dict[str, Any]]] = {}
    for tag, order in enumerate(orders):
        bar = int(np.searchsorted(open_time, order["created_at"] - step, side="left"))
        if bar < len(open_time) and open_time[bar] == order["created_at"] - step:
            by_bar.setdefault(bar, []).append({**order, "tag": tag})

    class Orders(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            i = len(self.data) - 1
            close_time = int(open_time[i]) + step
            for order in self.orders:
                if order.parent_trade is None and close_time >= orders[order.tag]["expires_at"]:
                    order.cancel()
            for trade in self.trades:
                filled = int(open_time[trade.entry_bar]) + step
                if close_time - filled >= orders[trade.tag]["max_hold_ms"]:
                    trade.close()
            for order in by_bar.get(i, ()):
                place = self.buy if order["direction"] == "bullish" else self.sell
                place(
                    size=size,
                    limit=order["entry"],
                    sl=order["stop"],
                    tp=order["target"],
                    tag=order["tag"],
                )

    return Orders


def warning_counts(caught: list[warnings.WarningMessage]) -> dict[str, int]:
    """Warnings of the last run by message, the bar's timestamp prefix removed."""
    counts: dict[str, int] = {}
    for w in caught:
        text = str(w.message)
        if text.startswith("(") and ") " in text:
            text = text.split(") ", 1)[1]
        text = text[:90]
        counts[text] = counts.get(text, 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame, open_time, spec = load(args.directory)
    backtest = Backtest(
        frame,
        strategy_for(open_time, spec),
        cash=spec["cash"],
        commission=spec["commission"],
        spread=0.0,
        margin=1.0,
        trade_on_close=True,
        hedging=True,
        exclusive_orders=False,
        finalize_trades=True,
    )
    times = []
    stats: Any = None
    warned: dict[str, int] = {}
    for _ in range(args.repeat):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            started = time.perf_counter()
            stats = backtest.run()
            times.append(time.perf_counter() - started)
        warned = warning_counts(caught)
    trades = stats["_trades"]
    step = int(spec["step_ms"])
    rows = [
        {
            "tag": int(row.Tag),
            "entry_time": int(open_time[int(row.EntryBar)]) + step,
            "exit_time": int(open_time[int(row.ExitBar)]) + step,
            "entry_price": float(row.EntryPrice),
            "exit_price": float(row.ExitPrice),
            "size": float(row.Size),
            "pnl": float(row.PnL),
        }
        for row in trades.itertuples()
    ]
    json.dump(
        {
            "version": backtesting.__version__,
            "trades": rows,
            "final_equity": float(stats["Equity Final [$]"]),
            "times": times,
            "median": statistics.median(times),
            "warnings": warned,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
