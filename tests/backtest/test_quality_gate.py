"""A backtest with min_quality counts only zones whose walk-forward probability reaches it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cryptolens.backtest.params import parse_params, run_params
from cryptolens.backtest.replay import find_drafts, prepare
from cryptolens.detect import Candles
from cryptolens.quality.features import build_dataset
from cryptolens.quality.walkforward import walk_forward_probabilities
from cryptolens.signals import DEFAULT_SIGNAL_PARAMS


def test_signals_under_a_minimum_use_only_zones_that_reach_it(btc_hours: Candles) -> None:
    prepared = prepare(btc_hours[: 300 * 24], base_timeframe="1h", timeframes=["1h", "4h", "1d"])
    p = prepared.quality_probability()
    data = build_dataset(prepared.columns.detections(), prepared.candles)
    np.testing.assert_array_equal(p, walk_forward_probabilities(data))  # walk-forward only
    assert np.isnan(p).sum() < len(p) / 2  # most zones are scored
    minimum = float(np.nanquantile(p, 0.5))
    everything = find_drafts(prepared, replace(DEFAULT_SIGNAL_PARAMS, min_confluence=1))
    gated = find_drafts(
        prepared, replace(DEFAULT_SIGNAL_PARAMS, min_confluence=1, min_quality=minimum)
    )
    assert 0 < len(gated) < len(everything)
    used = np.array([ref for d in gated for ref in d.zone_refs])
    assert ((p[used] >= minimum) | np.isnan(p[used])).all()
    below = {int(r) for r in np.flatnonzero(p < minimum)}
    assert below & {ref for d in everything for ref in d.zone_refs}


def test_min_quality_is_a_named_backtest_parameter() -> None:
    chosen = run_params(parse_params({"min_quality": "0.55"}))
    assert chosen.signals.min_quality == 0.55
