"""Shared helpers for benchmark scripts: machine description and medians."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def header(title: str) -> None:
    print(f"# {title}")
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")


def median_seconds(
    run: Callable[[], object], *, repeat: int, setup: Callable[[], object] | None = None
) -> tuple[float, list[float]]:
    """Median wall time of ``repeat`` runs (``setup`` runs untimed before each)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times
