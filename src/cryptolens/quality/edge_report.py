"""The edge report's hold-rate and signal sections, from zones, outcomes and trades.

Hold rates: per pattern type x timeframe x direction, the share of decided zones (held or
failed; untouched and undecided zones are counted apart) that held, for the real zones and for
their placebos, each with a Wilson 95 % interval, and the difference real - placebo with
Newcombe's interval. The verdict reads the difference: "edge" only when its whole interval is
above zero, "worse than chance" when wholly below, "no edge" otherwise. Fewer than
``stats.SMALL_SAMPLE`` decided zones on either side flags the row as a small sample.

Signals: each trade's result after fees in R and in % of the entry notional, with a
percentile-bootstrap 95 % interval of the mean (seeded); "edge" only when the interval of the
mean R is wholly above zero.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from cryptolens.backtest.metrics import TradeRecord, entry_notional
from cryptolens.backtest.replay import Prepared
from cryptolens.detect.zones import PATTERNS
from cryptolens.domain.enums import Direction
from cryptolens.domain.timeframes import timeframe_ms
from cryptolens.quality.outcomes import Outcome, ZoneSpec
from cryptolens.quality.stats import (
    SMALL_SAMPLE,
    Interval,
    Verdict,
    bootstrap_mean,
    difference,
    verdict,
    wilson,
)

#: (pattern type, timeframe, direction) of a zone.
GroupKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Tally:
    """Outcomes of one group of zones."""

    zones: int
    held: int
    failed: int
    #: Never entered before expiry (or the end of the data).
    untouched: int
    #: Entered, but neither held nor failed before expiry.
    undecided: int
    #: Held or failed: the zones the rate is read from.
    decided: int
    #: Held among decided, with Wilson's 95 % interval; None when none decided.
    rate: Interval | None


@dataclass(frozen=True, slots=True)
class HoldRow:
    pattern_type: str
    timeframe: str
    direction: str
    real: Tally
    placebo: Tally
    #: Real hold rate minus placebo hold rate (Newcombe's 95 % interval).
    difference: Interval | None
    verdict: Verdict
    small: bool


@dataclass(frozen=True, slots=True)
class SignalRow:
    """The trades of one scope (all, or one direction) after fees."""

    scope: str
    trades: int
    win_rate: float | None
    expectancy_r: Interval | None
    expectancy_pct: Interval | None
    verdict: Verdict
    small: bool


def replay_zones(prepared: Prepared) -> tuple[list[GroupKey], list[ZoneSpec]]:
    """Every zone the replay detected, timeframe by timeframe: its group and its spec."""
    keys: list[GroupKey] = []
    specs: list[ZoneSpec] = []
    for tf, found in prepared.columns.detections():
        for code, bullish, low, high, formed, atr in zip(
            found.pattern.tolist(),
            found.bullish.tolist(),
            found.zone_low.tolist(),
            found.zone_high.tolist(),
            found.formed_at.tolist(),
            found.atr.tolist(),
            strict=True,
        ):
            direction = Direction.BULLISH if bullish else Direction.BEARISH
            keys.append((PATTERNS[code].value, tf, direction.value))
            specs.append(ZoneSpec(tf, direction, low, high, formed, atr))
    return keys, specs


def tally(outcomes: Iterable[Outcome]) -> Tally:
    """Count held, failed, untouched and undecided outcomes."""
    counts: Counter[str] = Counter()
    for o in outcomes:
        if o.held is None:
            counts["untouched" if o.touched_at is None else "undecided"] += 1
        else:
            counts["held" if o.held else "failed"] += 1
    held, failed = counts["held"], counts["failed"]
    return Tally(
        zones=sum(counts.values()),
        held=held,
        failed=failed,
        untouched=counts["untouched"],
        undecided=counts["undecided"],
        decided=held + failed,
        rate=wilson(held, held + failed),
    )


def hold_rows(
    keys: Sequence[GroupKey],
    real: Sequence[Outcome],
    placebo: Sequence[Outcome],
    *,
    draws: int = 1,
) -> list[HoldRow]:
    """One row per group, sorted by pattern type, timeframe and direction; ``placebo`` holds
    ``draws`` outcomes per real zone, zone by zone (as ``placebo_zones`` makes them)."""
    if len(real) != len(keys) or len(placebo) != len(keys) * draws:
        raise ValueError("outcomes do not line up with the zones")
    groups: dict[GroupKey, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    rows = []
    for key in sorted(groups, key=_order):
        members = groups[key]
        mine = tally(real[i] for i in members)
        theirs = tally(placebo[i * draws + d] for i in members for d in range(draws))
        diff = (
            difference(mine.rate, theirs.rate)
            if mine.rate is not None and theirs.rate is not None
            else None
        )
        rows.append(
            HoldRow(
                pattern_type=key[0],
                timeframe=key[1],
                direction=key[2],
                real=mine,
                placebo=theirs,
                difference=diff,
                verdict=Verdict.NO_EDGE if diff is None else verdict(diff),
                small=min(mine.decided, theirs.decided) < SMALL_SAMPLE,
            )
        )
    return rows


def _order(key: GroupKey) -> tuple[str, int, str]:
    return key[0], timeframe_ms(key[1]), key[2]


def signal_rows(trades: Sequence[TradeRecord], *, seed: int) -> list[SignalRow]:
    """All trades, then each direction with trades: expectancy after fees with intervals."""
    scopes: list[tuple[str, list[TradeRecord]]] = [("all", list(trades))]
    for direction in Direction:
        mine = [t for t in trades if Direction(t.direction) is direction]
        if mine:
            scopes.append((direction.value, mine))
    return [_signal_row(scope, chosen, seed=seed) for scope, chosen in scopes]


def _signal_row(scope: str, trades: Sequence[TradeRecord], *, seed: int) -> SignalRow:
    r = np.array([t.r_multiple for t in trades if t.r_multiple is not None], dtype=np.float64)
    pct = np.array([t.pnl / entry_notional(t) * 100 for t in trades], dtype=np.float64)
    r_mean = bootstrap_mean(r, seed=seed)
    return SignalRow(
        scope=scope,
        trades=len(trades),
        win_rate=float(np.mean(r > 0)) if len(r) else None,
        expectancy_r=r_mean,
        expectancy_pct=bootstrap_mean(pct, seed=seed),
        verdict=Verdict.NO_EDGE if r_mean is None else verdict(r_mean),
        small=len(trades) < SMALL_SAMPLE,
    )
