"""Walk-forward models: no look-ahead in the schedule, calibrated probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from cryptolens.domain.errors import ValidationError
from cryptolens.quality.outcomes import HELD
from cryptolens.quality.walkforward import (
    ModelParams,
    fit_model,
    out_of_sample,
    walk_forward_folds,
    walk_forward_probabilities,
)
from tests.builders.quality import HOUR, synthetic_dataset

DAY = 24 * HOUR


@st.composite
def histories(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    formed = np.sort(rng.integers(0, 400, n)).astype(np.int64) * DAY // 4
    known = formed + rng.integers(0, 40, n).astype(np.int64) * DAY // 4
    labelled = rng.random(n) < draw(st.floats(0.2, 1.0))
    return formed, known, labelled


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(1, 40), st.integers(1, 60))
def test_no_training_verdict_is_known_after_the_scored_zone_forms(
    history: tuple[np.ndarray, np.ndarray, np.ndarray], min_train: int, step_days: int
) -> None:
    formed, known, labelled = history
    params = ModelParams(min_train=min_train, step_days=step_days)
    folds = walk_forward_folds(formed, known, labelled, params)
    scored = np.concatenate([f.score for f in folds]) if folds else np.empty(0, np.int64)
    assert np.unique(scored).shape[0] == scored.shape[0]  # each zone scored once at most
    for fold in folds:
        assert labelled[fold.train].all()
        assert fold.train.shape[0] >= min_train
        assert known[fold.train].max() <= formed[fold.score].min()
        assert known[fold.train].max() <= fold.cutoff <= formed[fold.score].min()
    if labelled.sum() >= min_train:
        first = np.sort(known[labelled])[min_train - 1]
        assert set(scored.tolist()) == set(np.flatnonzero(formed >= first).tolist())


def test_probabilities_match_a_known_chance_of_holding() -> None:
    data, truth = synthetic_dataset(6000, seed=3, undecided=0.1)
    params = ModelParams(min_train=1000, step_days=40, max_iter=60)
    p = walk_forward_probabilities(data, params)
    scored = ~np.isnan(p)
    assert scored.sum() > 4000
    assert np.abs(p[scored] - truth[scored]).mean() < 0.07
    # Calibration: in each decile of the prediction, the mean prediction is the mean true
    # chance of the zones in it (the true chance, not the noisy verdicts, is known here).
    q, t = p[scored], truth[scored]
    decile = np.minimum((np.argsort(np.argsort(q)) * 10) // q.shape[0], 9)
    for d in range(10):
        assert abs(q[decile == d].mean() - t[decile == d].mean()) < 0.07, d
    rows = scored & data.labelled
    held = data.verdict[rows] == HELD
    observed, predicted = calibration_curve(held, p[rows], n_bins=10, strategy="quantile")
    assert np.abs(observed - predicted).max() < 0.08
    oracle = roc_auc_score(held, truth[rows])
    assert roc_auc_score(held, p[rows]) > oracle - 0.03


def test_out_of_sample_reports_each_scored_zone_with_its_verdict() -> None:
    data, _ = synthetic_dataset(2500, seed=5, undecided=0.2)
    scored = out_of_sample(data, ModelParams(min_train=800, step_days=30))
    first = scored[0].formed_at
    assert [z.formed_at for z in scored] == sorted(
        data.zones.formed_at[data.zones.formed_at >= first]
    )
    assert {z.held for z in scored} == {True, False, None}
    assert all(0.0 <= z.probability <= 1.0 for z in scored)


def test_a_model_needs_both_verdicts_in_its_training_and_calibration_rows() -> None:
    data, _ = synthetic_dataset(400, seed=1)
    rows = data.labelled
    with pytest.raises(ValidationError, match="both held and failed"):
        fit_model(data.features[rows], np.ones(int(rows.sum()), bool), data.known_at[rows])
    model = fit_model(data.features[rows], data.verdict[rows] == HELD, data.known_at[rows])
    with pytest.raises(ValidationError, match="feature columns"):
        model.predict(data.features[:, :3])
    with pytest.raises(ValidationError, match="calibration_fraction"):
        ModelParams(calibration_fraction=1.0)


def test_a_feature_no_training_zone_has_is_ignored_not_an_error() -> None:
    """One timeframe only: higher-timeframe agreement is NaN for every zone, which the
    booster's binning rejects (the daily edge-report job failed on it)."""
    data, _ = synthetic_dataset(400, seed=1)
    rows = data.labelled
    features = data.features[rows].copy()
    features[:, 1] = np.nan
    held = data.verdict[rows] == HELD
    model = fit_model(features, held, data.known_at[rows])
    p = model.predict(features)
    assert np.isfinite(p).all()
    assert ((p >= 0) & (p <= 1)).all()
    assert np.isnan(features[:, 1]).all()  # the caller's array is left as it was
