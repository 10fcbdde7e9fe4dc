"""The edge report's model section: how well out-of-sample probabilities rank and match
what happened.

* AUC per pattern type (``sklearn.metrics.roc_auc_score``) of the calibrated probability and,
  on the same zones, of the detector's ``strength`` score: 0.5 is a coin toss.
* A reliability table over ten equal-width probability bins (0-10 %, ..., 90-100 %), from
  ``sklearn.calibration.calibration_curve``: the mean predicted probability against the
  observed hold rate, with the number of zones in each bin and the gap in percentage points.

Only decided zones (held True or False) count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from cryptolens.quality.stats import SMALL_SAMPLE

#: Bins of the reliability table.
BINS = 10


class Scored(Protocol):
    """What the section reads of an out-of-sample prediction (``walkforward.ScoredZone``)."""

    @property
    def pattern_type(self) -> str: ...
    @property
    def probability(self) -> float: ...
    @property
    def strength(self) -> float: ...
    @property
    def held(self) -> bool | None: ...


@dataclass(frozen=True, slots=True)
class AucRow:
    pattern_type: str
    zones: int
    held: int
    #: None when the zones are all held or all failed (AUC is undefined).
    auc: float | None
    strength_auc: float | None
    small: bool


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    low: float
    high: float
    zones: int
    #: Mean predicted probability (None for an empty bin).
    predicted: float | None
    observed: float | None
    #: |observed - predicted| in percentage points.
    gap_points: float | None


@dataclass(frozen=True, slots=True)
class ModelSection:
    zones: int
    aucs: tuple[AucRow, ...]
    reliability: tuple[ReliabilityBin, ...]
    #: The largest gap over bins with at least ``SMALL_SAMPLE`` zones (None if there is none).
    max_gap_points: float | None


def model_section(scored: Sequence[Scored]) -> ModelSection:
    """AUC per pattern type (and over all zones) and the reliability table."""
    decided = [z for z in scored if z.held is not None]
    types = sorted({z.pattern_type for z in decided})
    rows = [_auc_row(t, [z for z in decided if z.pattern_type == t]) for t in types]
    if len(types) > 1:
        rows.append(_auc_row("all", decided))
    table = reliability(
        np.array([z.probability for z in decided], dtype=np.float64),
        np.array([bool(z.held) for z in decided], dtype=bool),
    )
    gaps = [b.gap_points for b in table if b.gap_points is not None and b.zones >= SMALL_SAMPLE]
    return ModelSection(
        zones=len(decided),
        aucs=tuple(rows),
        reliability=table,
        max_gap_points=max(gaps) if gaps else None,
    )


def _auc_row(pattern_type: str, zones: Sequence[Scored]) -> AucRow:
    held = np.array([bool(z.held) for z in zones], dtype=bool)
    both = 0 < int(held.sum()) < len(held)
    prob = np.array([z.probability for z in zones], dtype=np.float64)
    strength = np.array([z.strength for z in zones], dtype=np.float64)
    return AucRow(
        pattern_type=pattern_type,
        zones=len(zones),
        held=int(held.sum()),
        auc=float(roc_auc_score(held, prob)) if both else None,
        strength_auc=float(roc_auc_score(held, strength)) if both else None,
        small=len(zones) < SMALL_SAMPLE,
    )


def reliability(probability: np.ndarray, held: np.ndarray) -> tuple[ReliabilityBin, ...]:
    """Ten equal-width bins: zones, mean prediction and observed rate (empty bins: None)."""
    edges = np.linspace(0.0, 1.0, BINS + 1)
    # The bin of each prediction exactly as calibration_curve assigns it (1.0 in the last bin).
    counts = np.bincount(np.searchsorted(edges[1:-1], probability), minlength=BINS)
    observed: list[float] = []
    predicted: list[float] = []
    if len(probability) and 0 < int(held.sum()) < len(held):
        true, pred = calibration_curve(held, probability, n_bins=BINS, strategy="uniform")
        observed, predicted = true.tolist(), pred.tolist()
    elif len(probability):  # one class only: calibration_curve refuses, the rate is plain
        filled = np.flatnonzero(counts)
        ids = np.searchsorted(edges[1:-1], probability)
        predicted = [float(probability[ids == b].mean()) for b in filled]
        observed = [float(held[0])] * len(filled)
    out = []
    filled_bins = iter(zip(observed, predicted, strict=True))
    for b in range(BINS):
        got = next(filled_bins) if counts[b] else None
        out.append(
            ReliabilityBin(
                low=float(edges[b]),
                high=float(edges[b + 1]),
                zones=int(counts[b]),
                predicted=None if got is None else got[1],
                observed=None if got is None else got[0],
                gap_points=None if got is None else abs(got[0] - got[1]) * 100,
            )
        )
    return tuple(out)
