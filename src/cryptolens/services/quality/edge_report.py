"""The edge report on the shipped BTC/USD history: computed once per (data, code version,
parameters) and kept as JSON in the instance directory, which the /edge page reads.

The key of a report is a SHA-256 over the history file's bytes, the source of the pure code
that produces the figures (detection, signals, backtest, quality, aggregation), the installed
version and the report's parameters: a report computed by other code or on other data is
shown as stale, never as current.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from cryptolens.backtest.execution import DEFAULT_EXECUTION
from cryptolens.config import Settings
from cryptolens.detect import Candles, as_candles
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.quality.edge import EdgeReport, compute_edge
from cryptolens.quality.walkforward import DEFAULT_MODEL
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


def load_history(path: Path = SHIPPED_HISTORY) -> Candles:
    """The candles of a history file (CSV, optionally gzipped). ValidationError if unreadable."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise ValidationError(f"cannot read the history file {path.name}: {error}") from None
    return as_candles(frame)


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


def code_fingerprint() -> str:
    """SHA-256 over the installed version and the source of the report's pure code."""
    digest = hashlib.sha256(__version__.encode())
    for part in CODE:
        root = PACKAGE / part
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for file in files:
            digest.update(str(file.relative_to(PACKAGE)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def report_key(
    settings: Settings, history: Path = SHIPPED_HISTORY, *, with_model: bool = True
) -> str:
    digest = hashlib.sha256(history.read_bytes())
    digest.update(code_fingerprint().encode())
    params = report_params(settings, with_model=with_model)
    digest.update(json.dumps(params, sort_keys=True).encode())
    return digest.hexdigest()


def compute_report(
    settings: Settings,
    *,
    now: datetime,
    history: Path = SHIPPED_HISTORY,
    with_model: bool = True,
) -> dict[str, Any]:
    """The edge report on ``history`` as a JSON-ready dict (keyed, stamped ``now``);
    ``with_model`` False leaves out the model section, the slow part."""
    params = report_params(settings, with_model=with_model)
    report = compute_edge(
        load_history(history),
        base_timeframe=HISTORY_TIMEFRAME,
        timeframes=params["timeframes"],
        seed=settings.edge_seed,
        placebo_draws=settings.edge_placebo_draws,
        execution=DEFAULT_EXECUTION,
        model=DEFAULT_MODEL if with_model else None,
    )
    return {
        "key": report_key(settings, history, with_model=with_model),
        "computed_at": now.isoformat(timespec="seconds"),
        "format": FORMAT,
        "version": __version__,
        "data": {"file": history.name, "source": "shipped history (Coinbase BTC/USD, 1h)"},
        **as_json(report),
    }


def as_json(report: EdgeReport) -> dict[str, Any]:
    """The report's dataclasses as plain JSON values (verdicts as their text)."""
    plain: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(report)))
    return plain


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
    with_model = bool(report.get("params", {}).get("model", True))
    key = report_key(settings, history, with_model=with_model)
    return CachedReport(report, report.get("key") == key)
