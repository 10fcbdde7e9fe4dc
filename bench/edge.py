"""Benchmark: the zone-quality model against the current strength score, walk-forward, on the
shipped Coinbase BTC/USD 1h history (2017-07..2019-10), zones on 1h, 2h, 4h and 1d.

    python bench/edge.py [--repeat 3] [--tune-share 0.4]

Hyper-parameters are chosen on the first ``--tune-share`` of the history only (by mean AUC
over the zone types of the zones formed there, scored walk-forward); the figures are measured
on the zones formed after it, which the choice never saw. Per zone type: out-of-sample AUC
of the model and of ``strength`` on the same zones, and the calibration error per decile of
the prediction (max |mean prediction - observed hold rate|, in points). Goals: AUC >= 0.60
for each type and above strength's; calibration <= 5 points per decile. Prints the median
time of ``--repeat`` runs of the label and of the walk-forward too. Exits 1 on a missed goal.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace

import numpy as np

from _common import header, median_seconds
from cryptolens.backtest.replay import prepare
from cryptolens.detect import Candles
from cryptolens.market.simulator.demo import demo_datasets
from cryptolens.quality.dataset import Dataset, label_zones
from cryptolens.quality.features import build_dataset
from cryptolens.quality.metrics import type_metrics
from cryptolens.quality.walkforward import DEFAULT_MODEL, ModelParams, walk_forward_probabilities

TIMEFRAMES = ("1h", "2h", "4h", "1d")
GOAL_AUC, GOAL_CAL = 0.60, 5.0
GRID = {
    "max_iter": (60, 150),
    "max_depth": (2, 3),
    "min_samples_leaf": (50, 150),
    "calibration": ("sigmoid", "isotonic"),
}


def history() -> Candles:
    ds = demo_datasets()["BTC/USDT"]
    return Candles(ds.open_time, ds.open, ds.high, ds.low, ds.close, ds.volume)


def mean_auc(data: Dataset, p: np.ndarray, rows: np.ndarray) -> float:
    figures = [m.auc_model for m in type_metrics(data, p, rows) if m.name != "all"]
    return float(np.mean(figures)) if figures else 0.0


def tune(data: Dataset, split: int) -> ModelParams:
    """The grid's best combination on the zones formed before ``split`` (verdicts known by then)."""
    early = np.flatnonzero(data.zones.formed_at < split)
    known = (data.known_at <= split) & data.labelled
    sub = Dataset(
        data.zones.take(early),
        data.features[early],
        data.feature_names,
        np.where(known[early], data.verdict[early], -1).astype(np.int8),
        data.known_at[early],
    )
    best, best_score = DEFAULT_MODEL, -1.0
    for values in itertools.product(*GRID.values()):
        params = replace(DEFAULT_MODEL, **dict(zip(GRID, values, strict=True)))
        p = walk_forward_probabilities(sub, params)
        score = mean_auc(sub, p, ~np.isnan(p) & sub.labelled)
        print(f"  tune {dict(zip(GRID, values, strict=True))}: mean AUC {score:.3f}")
        if score > best_score:
            best, best_score = params, score
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tune-share", type=float, default=0.4)
    parser.add_argument("--atr-mult", type=float, default=1.0)
    args = parser.parse_args()
    header(f"zone quality vs strength, BTC/USD 1h history, zones on {', '.join(TIMEFRAMES)}")
    base = history()
    prepared = prepare(base, base_timeframe="1h", timeframes=TIMEFRAMES)
    parts = prepared.columns.detections()
    data = build_dataset(parts, prepared.candles, args.atr_mult)
    label_s, _ = median_seconds(
        lambda: label_zones(data.zones, prepared.candles, args.atr_mult), repeat=args.repeat
    )
    held, failed = int((data.verdict == 1).sum()), int((data.verdict == 0).sum())
    print(
        f"zones {len(data)}: held {held}, failed {failed}, no verdict {len(data) - held - failed}"
    )
    print(f"label: median {label_s * 1000:.1f} ms over {args.repeat} runs")
    start, end = int(base.open_time[0]), int(base.open_time[-1])
    split = start + int((end - start) * args.tune_share)
    print(f"tuning on zones formed before {np.datetime64(split, 'ms')} only:")
    params = tune(data, split)
    print(f"chosen: {params}")
    probabilities: list[np.ndarray] = []
    wf_s, _ = median_seconds(
        lambda: probabilities.append(walk_forward_probabilities(data, params)), repeat=args.repeat
    )
    p = probabilities[-1]
    print(f"walk-forward over the whole history: median {wf_s:.1f} s over {args.repeat} runs")
    rows = ~np.isnan(p) & data.labelled & (data.zones.formed_at >= split)
    print(f"evaluation: labelled zones formed from {np.datetime64(split, 'ms')} on")
    print(
        f"{'type':16} {'zones':>6} {'held':>6} {'AUC model':>10} {'AUC strength':>13} "
        f"{'calib. pts':>10}"
    )
    missed = []
    for m in type_metrics(data, p, rows):
        print(
            f"{m.name:16} {m.zones:6d} {m.hold_rate:6.1%} {m.auc_model:10.3f} "
            f"{m.auc_strength:13.3f} {m.calibration_pts:10.1f}"
        )
        if m.name == "all":
            continue
        if m.auc_model < GOAL_AUC or m.auc_model <= m.auc_strength:
            missed.append(f"{m.name}: AUC {m.auc_model:.3f} (strength {m.auc_strength:.3f})")
        if m.calibration_pts > GOAL_CAL:
            missed.append(f"{m.name}: calibration {m.calibration_pts:.1f} points")
    for line in missed:
        print(f"goal missed - {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
