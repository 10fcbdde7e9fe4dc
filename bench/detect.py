"""Benchmark of the detection engine on seeded synthetic 1m candles, one core.

    .venv/bin/python bench/detect.py [--quick] [--n N] [--repeat R] [--smc-n M]
    .venv-bench/bin/python bench/detect.py    # same, plus the smartmoneyconcepts comparison

Prints the machine, per-stage medians, the all-together pipeline median (ATR + swings +
structure + FVG + order blocks + sweeps + lifecycle) and, when the `smartmoneyconcepts`
package is importable, its timings on a smaller slice with speed ratios and FVG agreement.
Never part of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd

from cryptolens.detect import (
    DetectionParams,
    as_candles,
    detect,
    detect_fvg,
    detect_liquidity_sweeps,
    detect_order_blocks,
    market_structure,
    run_lifecycle,
)
from cryptolens.detect.atr import AtrState, wilder_atr
from cryptolens.detect.engine import _sweep_detections
from cryptolens.detect.fvg import fvg_in_window
from cryptolens.detect.order_blocks import ob_in_window
from cryptolens.detect.structure import classify_breaks, equal_pools, side_breaks
from cryptolens.detect.sweeps import IntactLevels, side_sweeps
from cryptolens.detect.swings import find_swings
from cryptolens.detect.window import Window
from cryptolens.market.synthetic import synthetic_candles

TF = "1m"
TF_MS = 60_000


def cpu_name() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = fn()  # warm-up: page faults and lazy imports are not what we measure
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def stages(candles: Any, p: DetectionParams, repeat: int) -> dict[str, float]:
    """Each stage on its own over the whole series (the pipeline shares this work)."""
    c = candles
    out: dict[str, float] = {}
    out["atr"], (atr, _) = median_time(
        lambda: wilder_atr(c.high, c.low, c.close, AtrState(period=p.atr_period)), repeat
    )

    def window() -> Window:
        return Window(c, 0, 0, TF_MS, atr)

    out["swings"], (highs, lows) = median_time(
        lambda: find_swings(c.high, c.low, p.swing_left, p.swing_right), repeat
    )

    def structure() -> tuple[Any, Any, Any]:
        w = window()
        up, down = side_breaks(w, 1, highs, None), side_breaks(w, -1, lows, None)
        choch = classify_breaks(up.index, down.index, None)
        pools = (
            equal_pools(w, 1, highs, None, p.equal_tolerance_atr),
            equal_pools(w, -1, lows, None, p.equal_tolerance_atr),
        )
        return (up, down), choch, (w, pools)

    out["structure (BOS/CHoCH + equal H/L)"], ((up, down), choch, (w, pools)) = median_time(
        structure, repeat
    )
    out["fvg"], _ = median_time(
        lambda: fvg_in_window(window(), p.fvg_min_size_atr, p.volume_lookback), repeat
    )

    def order_blocks() -> None:
        for sign, brk, flags in ((1, up, choch[0]), (-1, down, choch[1])):
            ob_in_window(
                w,
                breaks=brk.index,
                levels=sign * brk.level,
                choch=flags,
                bullish=sign > 0,
                previous_ob=-1,
                zone=p.ob_zone,
                max_leg=p.ob_max_leg,
                volume_lookback=p.volume_lookback,
            )

    out["order blocks"], _ = median_time(order_blocks, repeat)

    def sweeps() -> None:
        for sign, swings, pool in ((1, highs, pools[0]), (-1, lows, pools[1])):
            found = side_sweeps(w, sign, swings, pool, IntactLevels())
            _sweep_detections(w, sign, found, p.volume_lookback)

    out["liquidity sweeps"], _ = median_time(sweeps, repeat)
    zones = detect(c, TF, p)
    out["lifecycle"], _ = median_time(lambda: run_lifecycle(zones, c, TF), repeat)
    return out


def smc_compare(candles: Any, n_full: int, quick: bool) -> tuple[float, float] | None:
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner on import
            from smartmoneyconcepts import smc  # type: ignore[import-not-found]
    except ImportError:
        print(
            "\nsmartmoneyconcepts is not installed here: comparison skipped.\n"
            "  python3 -m venv .venv-bench && .venv-bench/bin/pip install smartmoneyconcepts "
            "-e .\n  .venv-bench/bin/python bench/detect.py"
        )
        return None
    import importlib.metadata as md

    n = len(candles)
    half = candles[: n // 2]
    print(f"\n== smartmoneyconcepts {md.version('smartmoneyconcepts')} on {n:,} candles ==")
    swing = 5  # our default swing_left = swing_right = 5
    same = DetectionParams(fvg_min_size_atr=0.0)

    def frame_of(c: Any) -> pd.DataFrame:
        return c.to_frame().drop(columns=["open_time"])

    def smc_calls(frame: pd.DataFrame) -> dict[str, tuple[float, Any]]:
        out: dict[str, tuple[float, Any]] = {}

        def timed(name: str, fn: Callable[[], Any]) -> Any:
            start = time.perf_counter()
            result = fn()
            out[name] = (time.perf_counter() - start, result)
            return result

        timed("fvg", lambda: smc.fvg(frame, join_consecutive=False))
        shl = timed("swings", lambda: smc.swing_highs_lows(frame, swing_length=swing))
        timed("bos_choch", lambda: smc.bos_choch(frame, shl, close_break=True))
        timed("ob", lambda: smc.ob(frame, shl, close_mitigation=False))
        timed("liquidity", lambda: smc.liquidity(frame, shl, range_percent=0.01))
        return out

    smc_calls(frame_of(candles[:2_000]))  # warm-up (imports, pandas caches)
    small = smc_calls(frame_of(half))
    full = smc_calls(frame_of(candles))
    reps = 3 if quick else 5
    ours = {
        "fvg": median_time(lambda: detect_fvg(candles, TF, same), reps)[0],
        "swings + bos_choch": median_time(lambda: market_structure(candles, TF), reps)[0],
        "ob": median_time(lambda: detect_order_blocks(candles, TF), reps)[0],
        "liquidity": median_time(lambda: detect_liquidity_sweeps(candles, TF), reps)[0],
    }

    def both(name: str) -> tuple[float, float]:
        if name == "swings + bos_choch":
            return (
                small["swings"][0] + small["bos_choch"][0],
                full["swings"][0] + full["bos_choch"][0],
            )
        return small[name][0], full[name][0]

    scale = n_full / n
    print(
        f"{'function':22s} {'smc n/2':>8s} {'smc n':>8s} {'ours n':>8s} {'ratio':>7s}"
        f" {'exp.':>5s} {'linear @N':>10s} {'growth @N':>10s}"
    )
    smc_total = ours_total = smc_est_total = smc_lin_total = 0.0
    for name, our_t in ours.items():
        t_half, t_full = both(name)
        exponent = math.log(t_full / t_half, 2) if t_half > 0 else 1.0
        estimate = t_full * scale ** max(1.0, exponent)
        smc_total += t_full
        ours_total += our_t
        smc_est_total += estimate
        smc_lin_total += t_full * scale
        print(
            f"{name:22s} {t_half:8.3f} {t_full:8.3f} {our_t:8.4f} {t_full / our_t:6.0f}x"
            f" {exponent:5.2f} {t_full * scale:9.1f}s {estimate:9.1f}s"
        )
    print(
        f"{'sum of the four':22s} {'':8s} {smc_total:8.3f} {ours_total:8.4f}"
        f" {smc_total / ours_total:6.0f}x {'':5s} {smc_lin_total:9.1f}s {smc_est_total:9.1f}s"
    )
    print(
        f"smc timed once per size; ours median of {reps}. 'exp.' is the growth exponent seen "
        f"from n/2 to n (single runs: noisy).\nN = {n_full:,}: 'linear' scales smc's time "
        "by N/n, 'growth' by (N/n)**max(1, exp.); both are estimates, not measurements."
    )
    fvg_agreement(candles, full["fvg"][1], detect_fvg(candles, TF, same))
    return smc_lin_total, smc_est_total


def fvg_agreement(candles: Any, theirs: pd.DataFrame, ours: Any) -> None:
    """Compare gaps keyed by (middle candle, direction, bottom, top)."""
    t = theirs.reset_index(drop=True)
    rows = t.index[t["FVG"].notna()]
    smc_set = {
        (int(i), int(t.at[i, "FVG"]), float(t.at[i, "Bottom"]), float(t.at[i, "Top"])) for i in rows
    }
    direction = np.where(ours.bullish, 1, -1)
    our_rows = list(
        zip(
            ours.formed_index.tolist(),
            direction.tolist(),
            ours.zone_low.tolist(),
            ours.zone_high.tolist(),
            strict=True,
        )
    )
    our_set = set(our_rows)
    # smc also requires the middle candle to close in the gap's direction; apply it to ours.
    c = candles
    coloured = {
        r
        for r in our_rows
        if (c.close[r[0]] > c.open[r[0]] if r[1] > 0 else c.close[r[0]] < c.open[r[0]])
    }
    both = len(smc_set & coloured)
    print("\n== FVG agreement (no size filter, join_consecutive=False) ==")
    print(f"ours (3-candle rule only):           {len(our_set):,}")
    print(f"ours with smc's middle-colour rule:  {len(coloured):,}")
    print(f"smartmoneyconcepts:                  {len(smc_set):,}")
    print(
        f"identical zones (index, direction, bounds): {both:,} = "
        f"{both / max(1, len(smc_set | coloured)):.2%} of the union"
    )
    print(
        "Definitions differ: smc requires the middle candle to close in the gap's direction "
        "(ours does not),\nmarks its own mitigation (we use a separate lifecycle) and can join "
        "consecutive gaps (off here)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k candles, fewer runs")
    parser.add_argument("--n", type=int, default=None, help="candles (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per figure")
    parser.add_argument("--smc-n", type=int, default=None, help="slice for smc (default 100k)")
    args = parser.parse_args()
    n = args.n or (100_000 if args.quick else 1_000_000)
    repeat = args.repeat or (3 if args.quick else 7)
    smc_n = min(n, args.smc_n or (10_000 if args.quick else 100_000))
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    print("== machine ==")
    print(f"date      {datetime.now(UTC):%Y-%m-%d %H:%M UTC}")
    print(f"platform  {platform.platform()}")
    print(f"cpu       {cpu_name()} ({os.cpu_count()} logical, pinned to one)")
    print(f"python    {sys.version.split()[0]}  numpy {np.__version__}  pandas {pd.__version__}")
    print("numba     not used (pure numpy/pandas)")

    candles = as_candles(synthetic_candles(n, seed=42))
    params = DetectionParams()
    print(f"\n== ours on {n:,} seeded synthetic 1m candles, median of {repeat} ==")
    for name, seconds in stages(candles, params, repeat).items():
        print(f"  {name:38s} {seconds * 1000:8.1f} ms")

    def pipeline() -> Any:
        zones = detect(candles, TF, params)
        return zones, run_lifecycle(zones, candles, TF)

    total, (zones, life) = median_time(pipeline, repeat)
    print(f"  {'ALL TOGETHER (detect + lifecycle)':38s} {total * 1000:8.1f} ms  (goal <= 500 ms)")
    counts = {
        name: int((zones.pattern == code).sum())
        for code, name in enumerate(("fvg", "order blocks", "sweeps"))
    }
    print(f"  zones: {len(zones):,} {counts}; still open at the end: {int(life.is_open().sum()):,}")
    t_obj, _ = median_time(zones.to_zones, max(1, repeat // 2))
    print(f"  (turning them into {len(zones):,} Zone objects: +{t_obj * 1000:.0f} ms, not counted)")
    smc_estimate = smc_compare(candles[:smc_n], n, args.quick)
    if smc_estimate is not None:
        linear, growth = smc_estimate
        print(
            f"\n== overall on {n:,} candles: our whole pipeline {total:.3f} s (measured) vs "
            f"smc's four functions\n   {linear:.1f} s linear estimate = {linear / total:,.0f}x, "
            f"{growth:.1f} s growth estimate = {growth / total:,.0f}x (goal >= 100x) =="
        )


if __name__ == "__main__":
    main()
