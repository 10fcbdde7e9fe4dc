"""Start-up time of the command line and of the pure core (issue 11, #20).

    cd bench && python startup.py [--repeat R]
    cd bench && PYTHONPATH=/path/to/other/src python startup.py   # another tree, to compare

Each figure is the median wall and CPU time of R fresh interpreter processes (the first, which warms
the file cache, is dropped): ``cryptolens --help``, ``cryptolens --version``, a command that
builds the app (``cryptolens db current`` on a throw-away SQLite file), and
``python -c 'import cryptolens.detect'``. Never part of the test run.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_process(args: list[str], *, cwd: Path, repeat: int) -> tuple[float, float, list[float]]:
    """Median wall and median CPU (user + system) seconds of ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat + 1):
        cpu, started = _children_cpu(), time.perf_counter()
        subprocess.run(args, cwd=cwd, check=True, capture_output=True, env=os.environ.copy())
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - cpu)
    # CPU time stays honest on a loaded machine, where wall time mostly measures the queue.
    return statistics.median(walls[1:]), statistics.median(cpus[1:]), walls[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    header("CryptoLens start-up")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["INSTANCE_DIR"] = folder
        os.environ.pop("DATABASE_URL", None)
        for name, argv in CASES.items():
            command = [sys.executable, *argv]
            wall, cpu, runs = time_process(command, cwd=Path(folder), repeat=args.repeat)
            spread = ", ".join(f"{t:.3f}" for t in runs)
            print(f"{name:42} wall {wall:.3f} s  cpu {cpu:.3f} s  (wall runs {spread})")


if __name__ == "__main__":
    main()
