"""Walk-forward zone-quality models: a zone is scored only by a model trained on zones whose
verdict was known (deciding candle closed) at or before the moment the model was trained,
which is at or before the zone formed.

The model is scikit-learn's histogram gradient boosting on ``quality.features``; its output
is calibrated into a probability of holding by isotonic regression fitted on the latest
slice of the training window (the booster never sees that slice), so the probability means
what it says on zones after the ones it was fitted on. Training is repeated every
``step_days``; each model scores the zones formed until the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from cryptolens.detect.candles import BoolArray, FloatArray, IntArray
from cryptolens.detect.zones import PATTERNS
from cryptolens.domain.enums import Direction, PatternType
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.timeframes import DAY_MS
from cryptolens.quality.dataset import Dataset
from cryptolens.quality.features import CATEGORICAL, FEATURES
from cryptolens.quality.outcomes import HELD


@dataclass(frozen=True, slots=True)
class ModelParams:
    """Hyper-parameters of the booster and the walk-forward schedule."""

    max_iter: int = 60
    learning_rate: float = 0.05
    max_depth: int = 3
    min_samples_leaf: int = 150
    l2_regularization: float = 1.0
    #: Latest share of the training rows kept apart to calibrate on.
    calibration_fraction: float = 0.3
    #: Sigmoid (Platt: a logistic fit on the booster's log-odds) or isotonic (a step function).
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid"
    #: Labelled zones needed before the first model is trained.
    min_train: int = 500
    step_days: int = 30

    def __post_init__(self) -> None:
        if self.calibration not in ("sigmoid", "isotonic"):
            raise ValidationError("calibration must be 'sigmoid' or 'isotonic'")
        if not 0 < self.calibration_fraction < 1:
            raise ValidationError("calibration_fraction must lie strictly between 0 and 1")
        for name in ("max_iter", "max_depth", "min_samples_leaf", "min_train", "step_days"):
            if getattr(self, name) < 1:
                raise ValidationError(f"{name} must be at least 1")


DEFAULT_MODEL = ModelParams()


@dataclass(frozen=True, slots=True)
class ScoredZone:
    """A zone with its out-of-sample probability of holding and its verdict."""

    pattern_type: PatternType
    timeframe: str
    direction: Direction
    formed_at: int
    probability: float
    strength: float
    held: bool | None


@dataclass(frozen=True, slots=True, eq=False)
class ZoneModel:
    """A fitted booster and its calibration: ``predict`` gives P(held) per feature row."""

    booster: HistGradientBoostingClassifier
    calibration: Calibration
    feature_names: tuple[str, ...]
    #: Latest verdict time (epoch ms) among the training rows.
    trained_through: int
    rows: int
    #: Columns empty (all NaN) in the training rows, given a constant instead (see
    #: ``_fillable``); None: none were.
    empty: BoolArray | None = None

    def predict(self, features: FloatArray) -> FloatArray:
        """Calibrated probability of holding, one per row of ``features``."""
        if features.ndim != 2 or features.shape[1] != len(self.feature_names):
            raise ValidationError(
                f"expected {len(self.feature_names)} feature columns, got {features.shape}"
            )
        features = _filled(features, getattr(self, "empty", None))  # older files lack it
        with threadpool_limits(limits=1):
            raw = self.booster.predict_proba(features)[:, 1]
        return self.calibration.apply(raw)


@dataclass(frozen=True, slots=True, eq=False)
class Calibration:
    """The map from the booster's raw score to a probability of holding."""

    method: str
    fitted: IsotonicRegression | LogisticRegression

    @classmethod
    def fit(cls, method: str, raw: FloatArray, held: BoolArray) -> Calibration:
        if method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            return cls(method, iso.fit(raw, held.astype(np.float64)))
        return cls(method, LogisticRegression(C=1e6).fit(_logit(raw), held))

    def apply(self, raw: FloatArray) -> FloatArray:
        if self.method == "isotonic":
            out: FloatArray = np.clip(self.fitted.predict(raw), 0.0, 1.0)
            return out
        sigmoid: FloatArray = self.fitted.predict_proba(_logit(raw))[:, 1]
        return sigmoid


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    out: FloatArray = np.log(q / (1 - q)).reshape(-1, 1)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class Fold:
    """One walk-forward step: train on ``train`` rows, score ``score`` rows."""

    cutoff: int
    train: IntArray
    score: IntArray


def fit_model(
    features: FloatArray,
    held: BoolArray,
    known_at: IntArray,
    params: ModelParams = DEFAULT_MODEL,
) -> ZoneModel:
    """Booster on the earlier rows (by ``known_at``), isotonic calibration on the latest
    ``calibration_fraction``. Raises ValidationError when a part lacks either verdict."""
    order = np.argsort(known_at, kind="stable")
    cut = round(len(order) * (1 - params.calibration_fraction))
    fit, cal = order[:cut], order[cut:]
    for part, name in ((fit, "training"), (cal, "calibration")):
        if part.shape[0] == 0 or np.unique(held[part]).shape[0] < 2:
            raise ValidationError(f"the {name} rows need both held and failed zones")
    # A feature no training zone has (e.g. higher-timeframe agreement with one timeframe)
    # is all NaN, which the booster's binning cannot take: it becomes a constant, unused.
    empty = np.all(np.isnan(features[fit]), axis=0)
    empty_mask = empty if bool(empty.any()) else None
    features = _filled(features, empty_mask)
    booster = HistGradientBoostingClassifier(
        max_iter=params.max_iter,
        learning_rate=params.learning_rate,
        max_depth=params.max_depth,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        categorical_features=[FEATURES.index(name) for name in CATEGORICAL],
        early_stopping=False,
        random_state=0,
    )
    # Small fits: OpenMP threads cost more than they bring (x15 slower on two cores).
    with threadpool_limits(limits=1):
        booster.fit(features[fit], held[fit])
        raw = booster.predict_proba(features[cal])[:, 1]
    calibration = Calibration.fit(params.calibration, raw, held[cal])
    return ZoneModel(
        booster, calibration, FEATURES, int(known_at.max()), len(order), empty=empty_mask
    )


def _filled(features: FloatArray, empty: BoolArray | None) -> FloatArray:
    """``features`` with the ``empty`` columns set to 0 (a copy; as given if none)."""
    if empty is None:
        return features
    filled = features.copy()
    filled[:, empty] = 0.0
    return filled


def walk_forward_folds(
    formed_at: IntArray,
    known_at: IntArray,
    labelled: BoolArray,
    params: ModelParams = DEFAULT_MODEL,
) -> list[Fold]:
    """The schedule: every ``step_days`` from the moment ``min_train`` verdicts are known,
    train on the verdicts known by then and score the zones formed before the next step."""
    known = np.sort(known_at[labelled])
    if known.shape[0] < params.min_train or formed_at.shape[0] == 0:
        return []
    first = int(known[params.min_train - 1])
    step = params.step_days * DAY_MS
    folds = []
    cutoff = first
    last = int(formed_at.max())
    while cutoff <= last:
        score = np.flatnonzero((formed_at >= cutoff) & (formed_at < cutoff + step))
        train = np.flatnonzero(labelled & (known_at <= cutoff))
        if score.shape[0]:
            folds.append(Fold(cutoff, train, score))
        cutoff += step
    return folds


def out_of_sample(dataset: Dataset, params: ModelParams = DEFAULT_MODEL) -> list[ScoredZone]:
    """Every zone formed after the first model could be trained, scored walk-forward."""
    probability = walk_forward_probabilities(dataset, params)
    zones = dataset.zones
    rows = np.flatnonzero(~np.isnan(probability))
    held = dataset.verdict == HELD
    return [
        ScoredZone(
            pattern_type=PATTERNS[int(zones.pattern[r])],
            timeframe=str(zones.timeframe[r]),
            direction=zones.direction(int(r)),
            formed_at=int(zones.formed_at[r]),
            probability=float(probability[r]),
            strength=float(zones.strength[r]),
            held=bool(held[r]) if dataset.labelled[r] else None,
        )
        for r in rows.tolist()
    ]


def walk_forward_probabilities(dataset: Dataset, params: ModelParams = DEFAULT_MODEL) -> FloatArray:
    """P(held) of every zone from the model of its fold (NaN: formed before the first)."""
    out = np.full(len(dataset), np.nan)
    held = dataset.verdict == HELD
    folds = walk_forward_folds(dataset.zones.formed_at, dataset.known_at, dataset.labelled, params)
    for fold in folds:
        try:
            model = fit_model(
                dataset.features[fold.train], held[fold.train], dataset.known_at[fold.train], params
            )
        except ValidationError:
            continue  # one-sided history: no model, so these zones stay unscored
        out[fold.score] = model.predict(dataset.features[fold.score])
    return out
