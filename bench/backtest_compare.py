"""Benchmark: the same orders traded by our engine and by backtesting.py. Goal: the same trade
list and final equity, and ours >= 50x faster.

    python bench/backtest_compare.py [--days 90] [--repeat 5] [--compare-python PATH]

backtesting.py is AGPL-licensed and never a dependency of CryptoLens: it runs in a separate
venv, and only ``bench/compare_backtestingpy.py`` (started here as a subprocess with that venv's
python) imports it. Set-up, once:

    python3 -m venv bench/.venv-compare          # git-ignored (.venv-*/)
    bench/.venv-compare/bin/pip install backtesting numpy pandas

The orders: seeded synthetic 1m candles (``market.synthetic``) with every open set to the
previous close (no opening gaps; see below), replayed through the live pipeline (aggregation,
detection, lifecycle, confluence: ``backtest.replay``, untimed) with a 2 h entry TTL and a 6 h
maximum hold, so that expiries and timeouts happen. Each signal is one order: a limit entry,
a stop, one target (TP1), an expiry and a maximum hold. Both engines get the same candles and
the same orders, trade a fixed 1 unit per order with a 5 bps fee on every fill (maker = taker),
no slippage, and start with 1,000,000 in cash.

What is timed: ours, ``engine.trade_replays`` on the prepared replay (fills, exits, fees, the
book and the equity curve); theirs, ``Backtest.run`` (its order processing, the strategy's
``next()`` on every candle and its statistics). Theirs: median of ``--repeat`` runs; ours:
median of ``--repeat`` runs before and ``--repeat`` after theirs, after one warm-up run.

Where the two engines' rules differ, and how the scenario is restricted so they agree:

* Positions: ours can limit open positions (a filled signal is skipped when the limit is
  reached); backtesting.py cannot refuse a fill that depends on what happens later in the same
  candle. Here every order is its own position (our limits set out of reach; theirs with
  ``hedging=True``, ``exclusive_orders=False``): one account, independent trades.
* Gaps: backtesting.py fills a limit, stop or target order at the open when the candle opens
  beyond the order's price (a better entry or target, a worse stop); ours fills at the order's
  price (live outcome tracking's rule). With opens equal to the previous close, a candle can only
  open beyond an order's price if the previous candle closed beyond it, which the two cases
  below exclude.
* Marketable entries: a signal whose entry is already through the price (a long entry above
  the open of the first candle after the signal) fills at that open in backtesting.py, at the
  entry in ours. Left out (about half the signals: price is often inside the zone).
* The fill candle: ours counts a stop reached by the candle that fills the entry (price passed
  the entry on its way to the stop: certain); backtesting.py does not try the contingent stop
  and target of a limit entry in its fill candle (it warns, and tries them from the next candle).
  Orders whose fill candle reaches the stop, or closes at or beyond the target (the next
  candle would open beyond it), are left out. A fill candle that merely touches the target
  agrees: neither engine counts it (ours without finer candles).
* A candle through both stop and target: both count the stop (ours marks it ambiguous).
* Expiry and timeout agree without restriction (see ``compare_backtestingpy.py``), as does the
  end of the data (both close at the last close).

Prints both trade lists side by side (count, first and last ``--show`` trades, every
mismatch), both final equities, both medians and the speed ratio. Exits 1 when the lists or the
equities differ or the ratio is below 50.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from _common import header, median_seconds
from cryptolens.backtest.engine import BacktestResult, trade_replays
from cryptolens.backtest.execution import ExecutionModel, SizingMode
from cryptolens.backtest.replay import Replay, ReplayedSignal, replay
from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.market.synthetic import synthetic_candles
from cryptolens.signals import SignalParams

GOAL_RATIO = 50.0
DAY = 1_440
STEP_MS = 60_000
HOUR_MS = 3_600_000
CASH = 1_000_000.0
FEE_BPS = 5.0
#: Relative tolerance on prices and absolute tolerance on money (float summation order).
PRICE_REL = 1e-9
MONEY_ABS = 1e-6
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Row:
    """One trade as both engines report it."""

    signal_at: int
    direction: str
    entry_time: int
    exit_time: int
    entry_price: float
    exit_price: float
    pnl: float

    def key(self) -> tuple[int, int, str]:
        return (self.entry_time, self.signal_at, self.direction)

    def order(self) -> tuple[int, str]:
        """The order the trade came from (one signal per time and direction)."""
        return (self.signal_at, self.direction)


def gapless(n: int, seed: int) -> Candles:
    """Synthetic 1m candles with every open at the previous close (wicks widened to fit)."""
    raw = synthetic_candles(n, seed=seed)
    opens = np.concatenate((raw.open[:1], raw.close[:-1]))
    return Candles(
        raw.open_time,
        opens,
        np.maximum(raw.high, opens),
        np.minimum(raw.low, opens),
        raw.close,
        raw.volume,
    )


def _fill_index(s: ReplayedSignal, c: Candles, first: int) -> int | None:
    """The candle filling the signal's limit entry (from ``first``, before expiry), if any."""
    t = s.outcome
    end = int(np.searchsorted(c.open_time, t.expires_at, side="left"))
    if t.direction is Direction.BULLISH:
        reached = np.flatnonzero(c.low[first:end] <= t.entry)
    else:
        reached = np.flatnonzero(c.high[first:end] >= t.entry)
    return first + int(reached[0]) if reached.shape[0] else None


def comparable(result: Replay) -> tuple[tuple[ReplayedSignal, ...], dict[str, int]]:
    """The signals both engines trade the same way, and how many each rule left out."""
    c = result.base
    kept: list[ReplayedSignal] = []
    left_out = {"marketable entry": 0, "stop in fill candle": 0, "fill closes past target": 0}
    for s in result.signals:
        t = s.outcome
        sign = 1.0 if t.direction is Direction.BULLISH else -1.0
        first = int(np.searchsorted(c.open_time, t.created_at, side="left"))
        if first < len(c) and sign * c.open[first] <= sign * t.entry:
            left_out["marketable entry"] += 1
            continue
        j = _fill_index(s, c, first)
        if j is not None:
            adverse = c.low[j] if sign > 0 else c.high[j]
            if sign * adverse <= sign * t.stop:
                left_out["stop in fill candle"] += 1
                continue
            if sign * c.close[j] >= sign * t.targets[0]:
                left_out["fill closes past target"] += 1
                continue
        kept.append(s)
    return tuple(kept), left_out


def write_inputs(directory: Path, c: Candles, signals: tuple[ReplayedSignal, ...]) -> None:
    np.savez(
        directory / "candles.npz",
        open_time=c.open_time,
        open=c.open,
        high=c.high,
        low=c.low,
        close=c.close,
        volume=c.volume,
    )
    orders = [
        {
            "direction": s.outcome.direction.value,
            "entry": s.outcome.entry,
            "stop": s.outcome.stop,
            "target": s.outcome.targets[0],
            "created_at": s.outcome.created_at,
            "expires_at": s.outcome.expires_at,
            "max_hold_ms": s.outcome.max_hold_ms,
        }
        for s in signals
    ]
    spec = {
        "step_ms": STEP_MS,
        "cash": CASH,
        "commission": FEE_BPS / 10_000,
        "size": 1,
        "orders": orders,
    }
    (directory / "orders.json").write_text(json.dumps(spec), encoding="utf-8")


def run_theirs(python: Path, directory: Path, repeat: int) -> dict[str, Any]:
    script = HERE / "compare_backtestingpy.py"
    done = subprocess.run(
        [str(python), str(script), str(directory), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{script.name} failed with exit code {done.returncode}")
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def our_rows(result: BacktestResult) -> list[Row]:
    return sorted(
        (
            Row(
                t.signal_at,
                t.direction.value,
                t.entry_time,
                t.exit_time,
                t.entry_price,
                t.exit_price,
                t.pnl,
            )
            for t in result.trades
        ),
        key=Row.key,
    )


def their_rows(out: dict[str, Any], signals: tuple[ReplayedSignal, ...]) -> list[Row]:
    rows = []
    for t in out["trades"]:
        s = signals[t["tag"]].outcome
        rows.append(
            Row(
                s.created_at,
                s.direction.value,
                t["entry_time"],
                t["exit_time"],
                t["entry_price"],
                t["exit_price"],
                t["pnl"],
            )
        )
    return sorted(rows, key=Row.key)


def same(a: Row, b: Row) -> bool:
    return (
        a.key() == b.key()
        and a.exit_time == b.exit_time
        and math.isclose(a.entry_price, b.entry_price, rel_tol=PRICE_REL)
        and math.isclose(a.exit_price, b.exit_price, rel_tol=PRICE_REL)
        and math.isclose(a.pnl, b.pnl, rel_tol=0.0, abs_tol=MONEY_ABS)
    )


def _minute(ms: int) -> str:
    return np.datetime_as_string(np.datetime64(ms, "ms"), unit="m")


def _cell(row: Row | None) -> str:
    if row is None:
        return f"{'-':<63}"
    return (
        f"{row.direction[:4]:<4} {_minute(row.entry_time)} {row.entry_price:>10.2f} "
        f"{_minute(row.exit_time)[11:]} {row.exit_price:>10.2f} {row.pnl:>+9.3f}"
    )


def side_by_side(ours: list[Row], theirs: list[Row], show: int) -> int:
    """Print the lists side by side (first/last ``show`` and mismatches); return mismatches."""
    mine = {r.order(): r for r in ours}
    other = {r.order(): r for r in theirs}
    rows = sorted({**other, **mine}.values(), key=Row.key)
    pairs = [(mine.get(r.order()), other.get(r.order())) for r in rows]
    bad = [i for i, (a, b) in enumerate(pairs) if a is None or b is None or not same(a, b)]
    title = "dir  entry (close of fill)      price  exit        price       pnl"
    print(f"{'#':>5}  {title:<63} | {title}")
    shown = sorted(set(range(min(show, len(pairs)))) | set(range(len(pairs) - show, len(pairs))))
    shown = sorted(set(shown) | set(bad[:20]))
    previous = -1
    for i in shown:
        if i < 0:
            continue
        if i != previous + 1:
            print(f"{'...':>5}")
        a, b = pairs[i]
        mark = "  MISMATCH" if i in bad else ""
        print(f"{i:>5}  {_cell(a)} | {_cell(b)}{mark}")
        previous = i
    return len(bad)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90, help="days of 1m candles")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--show", type=int, default=5, help="first and last trades printed")
    parser.add_argument(
        "--compare-python",
        type=Path,
        default=HERE / ".venv-compare" / "bin" / "python",
        help="python of the venv holding backtesting.py",
    )
    args = parser.parse_args()
    n = args.days * DAY
    header(f"backtest vs backtesting.py: {n:,} gapless synthetic 1m candles, same orders")
    if not args.compare_python.exists():
        print(f"no {args.compare_python}: create the compare venv (see this script's docstring)")
        return 1
    candles = gapless(n, args.seed)
    signal_params = SignalParams(entry_ttl_ms=2 * HOUR_MS, max_hold_ms=6 * HOUR_MS)
    full = replay(
        candles, base_timeframe="1m", timeframes=tuple(TIMEFRAME_MS), signals=signal_params
    )
    kept, left_out = comparable(full)
    prepared = {"": replace(full, signals=kept)}
    dropped = ", ".join(f"{k} {v}" for k, v in left_out.items())
    print(f"signals {len(full.signals):,}; compared {len(kept):,} (left out: {dropped})")
    execution = ExecutionModel(
        initial_equity=CASH,
        maker_fee_bps=FEE_BPS,
        taker_fee_bps=FEE_BPS,
        slippage_value=0.0,
        sizing=SizingMode.QUANTITY,
        quantity=1.0,
        max_positions_per_symbol=len(kept) + 1,
        max_positions=len(kept) + 1,
        exit_fractions=(1.0, 0.0),
        break_even=False,
    )
    results: list[BacktestResult] = []
    trade_replays(prepared, execution)  # warm-up

    def run() -> None:
        results[:] = [trade_replays(prepared, execution)]

    # Ours runs before and after theirs (the machine is shared: load changes meanwhile).
    _, before = median_seconds(run, repeat=args.repeat)
    with tempfile.TemporaryDirectory(prefix="cryptolens-compare-") as tmp:
        write_inputs(Path(tmp), candles, kept)
        theirs = run_theirs(args.compare_python, Path(tmp), args.repeat)
    _, after = median_seconds(run, repeat=args.repeat)
    ours_times = before + after
    ours_median = statistics.median(ours_times)
    result = results[0]
    ours, other = our_rows(result), their_rows(theirs, kept)
    reasons: dict[str, int] = {}
    for t in result.trades:
        reasons[t.exit_reason.value] = reasons.get(t.exit_reason.value, 0) + 1
    print(f"trades: ours {len(ours):,}, backtesting.py {theirs['version']} {len(other):,}")
    print("our exit reasons: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    print(f"unfilled (expired or never reached): {len(kept) - len(ours):,}")
    mismatches = side_by_side(ours, other, args.show)
    equity_same = math.isclose(
        result.final_equity, theirs["final_equity"], rel_tol=0.0, abs_tol=MONEY_ABS
    )
    print(
        f"final equity: ours {result.final_equity:,.6f} | backtesting.py "
        f"{theirs['final_equity']:,.6f} ({'same' if equity_same else 'DIFFERENT'})"
    )
    print(f"trade lists: {'same' if not mismatches else f'{mismatches} MISMATCHES'}")
    paired = [(a, b) for a, b in zip(ours, other, strict=False) if a.order() == b.order()]
    if paired:
        price = max(abs(a.exit_price - b.exit_price) for a, b in paired)
        pnl = max(abs(a.pnl - b.pnl) for a, b in paired)
        gap = abs(result.final_equity - theirs["final_equity"])
        print(f"largest differences: exit price {price:.3g}, pnl {pnl:.3g}, final equity {gap:.3g}")
    for warning, count in theirs["warnings"].items():
        print(f"backtesting.py warned {count}x: {warning}")
    ratio = theirs["median"] / ours_median
    print(
        f"ours (trade_replays): median {ours_median * 1e3:.2f} ms over {len(ours_times)} runs "
        f"({', '.join(f'{t * 1e3:.2f}' for t in ours_times)})"
    )
    print(
        f"backtesting.py (Backtest.run): median {theirs['median']:.3f} s over {args.repeat} runs "
        f"({', '.join(f'{t:.3f}' for t in theirs['times'])})"
    )
    ok = ratio >= GOAL_RATIO and not mismatches and equity_same
    print(f"ours {ratio:,.0f}x faster; goal same trades and >= {GOAL_RATIO:.0f}x: ", end="")
    print("ok" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
