"""Benchmark: the edge report on the shipped BTC/USD history (20,111 hourly candles,
timeframes 1h, 2h, 4h, 1d, 5 placebo zones per zone): its computation with and without the
model section, and reading the stored report as the /edge page does.

    python bench/edge_report.py [--repeat 3]

Prints the median of ``--repeat`` runs of each, and the report's headline figures.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import header, median_seconds
from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.services.quality.edge_report import compute_report, load_history
from cryptolens.services.quality.edge_store import cached_report, save_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    header("edge report on the shipped BTC/USD history")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            instance_dir=Path(folder),
            base_timeframe="1h",
            timeframes=("1h", "2h", "4h", "1d"),
        )
        load_history()  # warm-up: imports and the first read of the file
        got: list[dict[str, object]] = []
        for with_model in (False, True):
            median, times = median_seconds(
                lambda m=with_model: got.append(
                    compute_report(settings, now=utcnow(), with_model=m)
                ),
                repeat=args.repeat,
            )
            runs = ", ".join(f"{t:.2f}" for t in times)
            label = "with the model" if with_model else "without the model"
            print(f"compute {label}: median {median:.2f} s ({runs})")
        report = got[-1]
        save_report(settings, report)
        cached_report(settings)  # first read hashes the code and the history
        median, _ = median_seconds(lambda: cached_report(settings), repeat=20)
        print(f"page read of the stored report: median {median * 1000:.1f} ms over 20")
        holds = report["holds"]
        assert isinstance(holds, list)
        verdicts = [h["verdict"] for h in holds]
        print(
            f"{len(holds)} zone groups: {verdicts.count('edge')} edge, "
            f"{verdicts.count('worse than chance')} worse than chance, "
            f"{verdicts.count('no edge')} no edge"
        )
        model = report["model"]
        assert isinstance(model, dict)
        aucs = ", ".join(
            f"{a['pattern_type']} {a['auc']:.3f} (strength {a['strength_auc']:.3f})"
            for a in model["aucs"]
        )
        print(f"model AUC out of sample: {aucs}; max gap {model['max_gap_points']:.1f} pts")
        signals = report["signals"]
        assert isinstance(signals, list)
        s = signals[0]
        r = s["expectancy_r"]
        print(
            f"signals: {s['trades']} trades, expectancy {r['value']:+.3f} R "
            f"[{r['low']:+.3f}, {r['high']:+.3f}] after fees: {s['verdict']}"
        )


if __name__ == "__main__":
    main()
