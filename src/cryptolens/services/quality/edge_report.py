"""The edge report on the shipped BTC/USD history, computed as a JSON-ready dict for
``edge_store`` to keep (the CLI computes it; the /edge page only reads it)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from cryptolens.backtest.execution import DEFAULT_EXECUTION
from cryptolens.config import Settings
from cryptolens.detect import Candles, as_candles
from cryptolens.domain.errors import ValidationError
from cryptolens.quality.edge import EdgeReport, compute_edge
from cryptolens.quality.walkforward import DEFAULT_MODEL
from cryptolens.services.quality.edge_store import (
    FORMAT,
    HISTORY_TIMEFRAME,
    SHIPPED_HISTORY,
    report_key,
    report_params,
)
from cryptolens.version import __version__


def load_history(path: Path = SHIPPED_HISTORY) -> Candles:
    """The candles of a history file (CSV, optionally gzipped). ValidationError if unreadable."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise ValidationError(f"cannot read the history file {path.name}: {error}") from None
    return as_candles(frame)


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
