"""Out-of-sample figures of a model: AUC (against strength's on the same zones) and the
calibration error per decile of the prediction, by zone type (scikit-learn's metrics)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from cryptolens.detect.candles import BoolArray, FloatArray
from cryptolens.detect.zones import PATTERNS
from cryptolens.quality.dataset import Dataset
from cryptolens.quality.outcomes import HELD


@dataclass(frozen=True, slots=True)
class TypeMetrics:
    """One zone type's (or ``all``'s) out-of-sample figures."""

    name: str
    zones: int
    hold_rate: float
    auc_model: float
    auc_strength: float
    #: Largest |mean prediction - observed hold rate| over the prediction's deciles, in points.
    calibration_pts: float

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def type_metrics(data: Dataset, probability: FloatArray, rows: BoolArray) -> list[TypeMetrics]:
    """Figures per pattern type and for all of ``rows`` (labelled, scored zones); a type
    whose zones all held or all failed has no AUC and is left out."""
    held = data.verdict == HELD
    picks = [
        (pattern.value, rows & (data.zones.pattern == code))
        for code, pattern in enumerate(PATTERNS)
    ]
    out = []
    for name, pick in [*picks, ("all", rows)]:
        y = held[pick]
        if y.sum() in (0, y.shape[0]):
            continue
        p = probability[pick]
        observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
        out.append(
            TypeMetrics(
                name=name,
                zones=int(pick.sum()),
                hold_rate=float(y.mean()),
                auc_model=float(roc_auc_score(y, p)),
                auc_strength=float(roc_auc_score(y, data.zones.strength[pick])),
                calibration_pts=float(100 * np.abs(observed - predicted).max()),
            )
        )
    return out
