"""Which zones count for confluence under a minimum probability of holding.

A zone counts when no minimum is set (0), when it has no probability (no model had been
trained when it formed: nothing says it is weak) or when its probability reaches the minimum.
The live scanner and the backtest both build the zone book through this rule, so a zone
below the minimum is absent from confluence exactly as if it had not been detected.
"""

from __future__ import annotations

import numpy as np

from cryptolens.detect.candles import BoolArray, FloatArray


def counts(probability: float | None, min_quality: float) -> bool:
    """Whether one zone counts."""
    return min_quality <= 0 or probability is None or probability >= min_quality


def counting(probability: FloatArray, min_quality: float) -> BoolArray:
    """Which zones count (NaN: no probability)."""
    if min_quality <= 0:
        return np.ones(probability.shape[0], dtype=bool)
    out: BoolArray = np.isnan(probability) | (probability >= min_quality)
    return out
