"""Zone-quality models as versioned files: train from the stored candles, save with a model
card, load the newest.

A model is ``INSTANCE_DIR/models/zone-quality-<version>.joblib`` (the fitted booster and
calibration, written by joblib) next to ``zone-quality-<version>.json``, its card: data range,
symbols, features, label, parameters and the out-of-sample figures of the walk-forward over
the same data. The version is the training time, ``YYYYMMDDTHHMMSSZ``, so the newest sorts
last. joblib files are pickles: only files this app wrote in its own instance folder are
ever loaded.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.backtest.replay import prepare
from cryptolens.config import Settings
from cryptolens.db.candles import load_candles
from cryptolens.db.symbols import list_symbols
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import ms_to_datetime
from cryptolens.quality.dataset import Dataset
from cryptolens.quality.features import FEATURES, build_dataset
from cryptolens.quality.metrics import type_metrics
from cryptolens.quality.outcomes import HELD
from cryptolens.quality.walkforward import (
    DEFAULT_MODEL,
    ModelParams,
    ZoneModel,
    fit_model,
    walk_forward_probabilities,
)

PREFIX = "zone-quality-"
_VERSION = re.compile(r"^\d{8}T\d{6}Z$")


@dataclass(frozen=True, slots=True, eq=False)
class StoredModel:
    """A model file, its version and its card."""

    version: str
    model: ZoneModel
    card: dict[str, Any]
    path: Path


def models_dir(settings: Settings) -> Path:
    return settings.instance_dir / "models"


def save_model(directory: Path, model: ZoneModel, card: dict[str, Any]) -> StoredModel:
    """Write the model and its card as ``card['version']`` (written to a temporary name
    first, so a reader never sees half a file)."""
    version = str(card["version"])
    if not _VERSION.match(version):
        raise ValidationError(f"bad model version {version!r}")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{PREFIX}{version}.joblib"
    partial = path.with_suffix(".partial")
    joblib.dump(model, partial)
    card_path = path.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=2, sort_keys=True), encoding="utf-8")
    partial.replace(path)
    return StoredModel(version, model, card, path)


def list_versions(directory: Path) -> list[str]:
    """Versions with both a model file and a card, oldest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob(f"{PREFIX}*.joblib"):
        version = path.stem.removeprefix(PREFIX)
        if _VERSION.match(version) and path.with_suffix(".json").is_file():
            found.append(version)
    return sorted(found)


_cache: dict[Path, tuple[float, StoredModel]] = {}


def load_latest(directory: Path) -> StoredModel | None:
    """The newest model (None when there is none); re-read only when its file changed."""
    versions = list_versions(directory)
    if not versions:
        return None
    path = directory / f"{PREFIX}{versions[-1]}.joblib"
    mtime = path.stat().st_mtime
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    model = joblib.load(path)
    if not isinstance(model, ZoneModel) or model.feature_names != FEATURES:
        return None  # written by another version of the app: retrain
    card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    stored = StoredModel(versions[-1], model, card, path)
    _cache[path] = (mtime, stored)
    return stored


def stored_datasets(engine: Engine, settings: Settings) -> list[tuple[str, Dataset]]:
    """Every active symbol's zones, replayed from its stored base candles exactly as the
    scanner detects them, with features and verdicts."""
    out = []
    with Session(engine) as session:
        symbols = list_symbols(session, exchange=settings.exchange_id, active_only=True)
        for symbol in symbols:
            base = load_candles(
                session.connection(), symbol_id=symbol.id, timeframe=settings.base_timeframe
            )
            if len(base.open_time) == 0:
                continue
            prepared = prepare(
                base, base_timeframe=settings.base_timeframe, timeframes=settings.timeframes
            )
            data = build_dataset(prepared.columns.detections(), prepared.candles)
            out.append((symbol.symbol, data))
    return out


def train_model(
    parts: list[tuple[str, Dataset]],
    *,
    now: datetime,
    params: ModelParams = DEFAULT_MODEL,
) -> tuple[ZoneModel, dict[str, Any]]:
    """The model fitted on every labelled zone, and its card with the walk-forward's
    out-of-sample figures. ValidationError when there are too few verdicts."""
    if not parts:
        raise ValidationError("no stored candles to train on")
    data = Dataset.concat([d for _, d in parts])
    labelled = data.labelled
    if int(labelled.sum()) < params.min_train:
        raise ValidationError(
            f"{int(labelled.sum())} zones with a verdict; a model needs at least {params.min_train}"
        )
    held = data.verdict == HELD
    model = fit_model(data.features[labelled], held[labelled], data.known_at[labelled], params)
    probability = walk_forward_probabilities(data, params)
    rows = ~np.isnan(probability) & labelled
    formed = data.zones.formed_at
    card = {
        "version": now.strftime("%Y%m%dT%H%M%SZ"),
        "trained_at": now.isoformat(),
        "data": {
            "symbols": [name for name, _ in parts],
            "from": ms_to_datetime(int(formed.min())).isoformat(),
            "to": ms_to_datetime(int(formed.max())).isoformat(),
            "zones": len(data),
            "labelled": int(labelled.sum()),
            "held": int(held.sum()),
        },
        "features": list(FEATURES),
        "label": "held: price moves 1 ATR beyond the near edge after the first touch before "
        "a candle closes beyond the far edge; failed: that close first",
        "params": asdict(params),
        "out_of_sample": {
            "zones": int(rows.sum()),
            "per_type": [m.as_dict() for m in type_metrics(data, probability, rows)],
        },
    }
    return model, card


def train_stored(engine: Engine, settings: Settings, *, now: datetime) -> StoredModel:
    """Train on every active symbol's stored history and save the model with its card."""
    model, card = train_model(stored_datasets(engine, settings), now=now)
    return save_model(models_dir(settings), model, card)
