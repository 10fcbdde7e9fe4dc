"""The model section on synthetic out-of-sample scores with a known truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from cryptolens.quality.edge_model import model_section, reliability


@dataclass(frozen=True)
class Scored:
    """The fields of ``walkforward.ScoredZone`` the section reads."""

    pattern_type: str
    probability: float
    strength: float
    held: bool | None


def calibrated(n: int, seed: int, pattern_type: str = "fvg") -> list[Scored]:
    """Zones that hold with exactly their predicted probability; strength is noise."""
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    held = rng.random(n) < p
    noise = rng.random(n)
    return [
        Scored(pattern_type, float(a), float(b), bool(c))
        for a, b, c in zip(p, noise, held, strict=True)
    ]


def test_calibrated_predictions_fill_each_decile_near_its_rate() -> None:
    section = model_section(calibrated(20_000, seed=1))
    assert section.zones == 20_000
    assert [round(b.low, 1) for b in section.reliability] == [i / 10 for i in range(10)]
    assert sum(b.zones for b in section.reliability) == 20_000
    for b in section.reliability:
        assert b.predicted is not None
        assert b.low <= b.predicted <= b.high
        assert b.gap_points is not None
        assert b.gap_points < 3
    assert section.max_gap_points is not None
    assert section.max_gap_points < 3


def test_auc_ranks_a_real_signal_well_and_noise_near_a_coin_toss() -> None:
    section = model_section(calibrated(5_000, seed=2))
    [row] = section.aucs
    # p uniform, held ~ Bernoulli(p): held zones' p has density 2p, failed ones' 2(1 - p), and
    # P(p_held > p_failed) = 2 * integral of u^2 (2 - u) over [0, 1] = 5/6.
    assert row.auc == pytest.approx(5 / 6, abs=0.02)
    assert row.strength_auc == pytest.approx(0.5, abs=0.03)
    assert row.zones == 5_000
    assert not row.small


def test_aucs_per_type_and_over_all_and_undecided_zones_left_out() -> None:
    zones = calibrated(200, seed=3, pattern_type="fvg") + calibrated(20, seed=4, pattern_type="ob")
    zones.append(Scored("fvg", 0.9, 1.0, None))
    section = model_section(zones)
    assert [(r.pattern_type, r.zones, r.small) for r in section.aucs] == [
        ("fvg", 200, False),
        ("ob", 20, True),
        ("all", 220, False),
    ]


def test_one_class_has_no_auc_and_a_plain_observed_rate() -> None:
    zones = [Scored("fvg", p, 0.5, True) for p in (0.05, 0.12, 0.18, 0.95)]
    section = model_section(zones)
    assert section.aucs[0].auc is None
    filled = [b for b in section.reliability if b.zones]
    assert [(b.zones, b.observed) for b in filled] == [(1, 1.0), (2, 1.0), (1, 1.0)]
    assert filled[1].predicted == pytest.approx(0.15)


def test_reliability_bins_match_hand_counts_and_skip_empty_bins() -> None:
    probability = np.array([0.05, 0.05, 0.15, 0.95, 1.0])
    held = np.array([True, False, False, True, True])
    table = reliability(probability, held)
    assert [b.zones for b in table] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert (table[0].predicted, table[0].observed) == (pytest.approx(0.05), 0.5)
    assert table[0].gap_points == pytest.approx(45.0)
    assert table[2].predicted is None
    assert table[2].gap_points is None
    assert table[9].observed == 1.0


def test_no_scores_give_an_empty_table() -> None:
    section = model_section([])
    assert section.zones == 0
    assert section.aucs == ()
    assert section.max_gap_points is None
    assert all(b.zones == 0 for b in section.reliability)
