"""Start-up time of the command line and of the pure core (issue 11, #20).

    cd bench && python startup.py [--repeat R]
    cd bench && PYTHONPATH=/path/to/other/src python startup.py   # another tree, to compare

Each figure is the median wall time of R fresh interpreter processes (the first, which warms
the file cache, is dropped): ``cryptolens --help``, ``cryptolens --version``, a command that
builds the app (``cryptolens db current`` on a throw-away SQLite file), and
``python -c 'import cryptolens.detect'``. Never part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import header

CASES: dict[str, list[str]] = {
    "cryptolens --help": ["-m", "cryptolens", "--help"],
    "cryptolens --version": ["-m", "cryptolens", "--version"],
    "cryptolens db current (builds the app)": ["-m", "cryptolens", "db", "current"],
    "python -c 'import cryptolens.detect'": ["-c", "import cryptolens.detect"],
}


def time_process(args: list[str], *, cwd: Path, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        subprocess.run(args, cwd=cwd, check=True, capture_output=True, env=os.environ.copy())
        times.append(time.perf_counter() - started)
    runs = times[1:]
    return statistics.median(runs), runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    header("CryptoLens start-up")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["INSTANCE_DIR"] = folder
        os.environ.pop("DATABASE_URL", None)
        for name, argv in CASES.items():
            median, runs = time_process(
                [sys.executable, *argv], cwd=Path(folder), repeat=args.repeat
            )
            spread = ", ".join(f"{t:.3f}" for t in runs)
            print(f"{name:42} median {median:.3f} s  (runs {spread})")


if __name__ == "__main__":
    main()
