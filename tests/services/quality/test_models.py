"""Model files: saved with a card, the newest loaded, stray files ignored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from cryptolens.domain.errors import ValidationError
from cryptolens.quality.walkforward import ModelParams
from cryptolens.services.quality.models import list_versions, load_latest, save_model, train_model
from tests.builders.quality import synthetic_dataset

NOW = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
PARAMS = ModelParams(min_train=300, step_days=20)


def test_a_trained_model_is_saved_with_its_card_and_the_newest_is_loaded(tmp_path: Path) -> None:
    data, _ = synthetic_dataset(1500, seed=2)
    model, card = train_model([("BTC/USDT", data)], now=NOW, params=PARAMS)
    assert card["version"] == "20260105T040000Z"
    assert card["data"]["symbols"] == ["BTC/USDT"]
    assert card["data"]["zones"] == 1500
    assert {row["name"] for row in card["out_of_sample"]["per_type"]} >= {"fvg", "all"}
    save_model(tmp_path, model, card)
    older = dict(card, version="20250101T000000Z")
    save_model(tmp_path, model, older)
    (tmp_path / "zone-quality-notaversion.joblib").write_text("x")
    (tmp_path / "zone-quality-20270101T000000Z.joblib").write_text("no card next to it")
    assert list_versions(tmp_path) == ["20250101T000000Z", "20260105T040000Z"]
    loaded = load_latest(tmp_path)
    assert loaded is not None
    assert loaded.version == "20260105T040000Z"
    assert json.loads((tmp_path / "zone-quality-20260105T040000Z.json").read_text()) == card
    np.testing.assert_array_equal(loaded.model.predict(data.features), model.predict(data.features))


def test_no_model_and_too_little_data_are_told_apart(tmp_path: Path) -> None:
    assert load_latest(tmp_path / "missing") is None
    data, _ = synthetic_dataset(100, seed=2)
    with pytest.raises(ValidationError, match="100 zones with a verdict; a model needs at least"):
        train_model([("BTC/USDT", data)], now=NOW, params=PARAMS)
    with pytest.raises(ValidationError, match="no stored candles"):
        train_model([], now=NOW)
    with pytest.raises(ValidationError, match="bad model version"):
        save_model(
            tmp_path,
            train_model([("X", synthetic_dataset(800, seed=1)[0])], now=NOW, params=PARAMS)[0],
            {"version": "../evil"},
        )
