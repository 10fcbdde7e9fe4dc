"""Where the edge report is kept: a JSON file in the instance directory, keyed by the data,
the code and the parameters that produce it. Light on purpose: the /edge page reads the
stored report through this module without importing the report's computation.

The key is a SHA-256 over the history file's bytes, the source of the pure code behind the
figures (detection, signals, backtest, quality, aggregation), the installed version and the
report's parameters: a report computed by other code, on other data or with other
parameters is shown as stale, never as current.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from cryptolens.config import Settings
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.version import __version__

PACKAGE = Path(__file__).resolve().parents[2]
#: Coinbase BTC/USD hourly candles, 2017-07-01 .. 2019-10-17, shipped with the package.
SHIPPED_HISTORY = PACKAGE / "data" / "coinbase_btcusd_1h.csv.gz"
HISTORY_TIMEFRAME = "1h"
#: The code whose behaviour the figures depend on.
CODE = ("detect", "signals", "backtest", "quality", "market/aggregate.py")
CACHE_FILE = "edge-report.json"
#: Changes when the report's JSON layout changes.
FORMAT = 1


@dataclass(frozen=True, slots=True)
class CachedReport:
    report: dict[str, Any]
    #: False when the data, code or parameters changed since it was computed.
    current: bool

    @property
    def computed_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(str(self.report.get("computed_at")))
        except ValueError:
            return None


def report_timeframes(settings: Settings) -> tuple[str, ...]:
    """The configured timeframes the hourly history can build (whole multiples of 1h)."""
    hour = TIMEFRAME_MS[HISTORY_TIMEFRAME]
    chosen = [tf for tf in settings.timeframes if TIMEFRAME_MS[tf] % hour == 0]
    return tuple(dict.fromkeys([HISTORY_TIMEFRAME, *chosen]))


def report_params(settings: Settings, *, with_model: bool = True) -> dict[str, Any]:
    return {
        "timeframes": list(report_timeframes(settings)),
        "model": with_model,
        "seed": settings.edge_seed,
        "placebo_draws": settings.edge_placebo_draws,
        "format": FORMAT,
    }


@cache
def code_fingerprint() -> str:
    """SHA-256 over the installed version and the source of the report's pure code (read
    once per process: the code a process runs does not change under it)."""
    digest = hashlib.sha256(__version__.encode())
    for part in CODE:
        root = PACKAGE / part
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for file in files:
            digest.update(str(file.relative_to(PACKAGE)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    stat = path.stat()
    return _digest_of(path, stat.st_size, stat.st_mtime_ns)


@cache
def _digest_of(path: Path, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def report_key(
    settings: Settings, history: Path = SHIPPED_HISTORY, *, with_model: bool = True
) -> str:
    digest = hashlib.sha256(_file_digest(history).encode())
    digest.update(code_fingerprint().encode())
    params = report_params(settings, with_model=with_model)
    digest.update(json.dumps(params, sort_keys=True).encode())
    return digest.hexdigest()


def cache_path(settings: Settings) -> Path:
    return settings.instance_dir / CACHE_FILE


def save_report(settings: Settings, report: dict[str, Any]) -> Path:
    """Write ``report`` to the instance directory atomically (a reader never sees half)."""
    path = cache_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".edge-", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump(report, out)
    os.replace(temporary, path)
    return path


def cached_report(settings: Settings, history: Path = SHIPPED_HISTORY) -> CachedReport | None:
    """The stored report, if any, and whether it is current (same data, code and parameters,
    with or without the model section as it was computed)."""
    try:
        report = json.loads(cache_path(settings).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        return None
    params = report.get("params")
    with_model = bool(params.get("model", True)) if isinstance(params, dict) else True
    try:
        key = report_key(settings, history, with_model=with_model)
    except OSError:  # the history file is gone: nothing can be current
        return CachedReport(report, current=False)
    return CachedReport(report, report.get("key") == key)
