"""The confluence search as it was before the block pruning (issue 16): every step of a block
against every zone live in it, with the votes of issue 20 counted the plain way (pairs of zones
compared one by one, clusters by union-find, votes by augmenting paths). Kept as the reference
the fast ``find_signals`` must equal exactly (tests/signals/test_confluence_reference.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cryptolens.domain.enums import Direction
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.signals.confluence import (
    BoolArray,
    FloatArray,
    IntArray,
    SignalDraft,
    Steps,
    ZoneBook,
)
from cryptolens.signals.levels import signal_levels
from cryptolens.signals.params import HIGHER_TIMEFRAMES, SignalParams

BLOCK = 512


def reference_find_signals(
    book: ZoneBook,
    steps: Steps,
    timeframes: Sequence[str],
    params: SignalParams,
    last_signal_at: Mapping[Direction, int | None],
) -> list[SignalDraft]:
    """Signals at each step in time order, given the previous signal time per direction."""
    last = {d: last_signal_at.get(d) for d in Direction}
    higher = np.array([tf in HIGHER_TIMEFRAMES for tf in timeframes], dtype=bool)
    drafts: list[SignalDraft] = []
    for begin in range(0, len(steps), BLOCK):
        t = steps.time[begin : begin + BLOCK]
        price = steps.close[begin : begin + BLOCK]
        live = (book.formed_at <= t[-1]) & (book.ends_at > t[0])
        zones = book.take(np.flatnonzero(live))
        if len(zones) == 0:
            continue
        masks = _actionable(zones, t, price, params.proximity)
        counts, qualifies = {}, {}
        for direction, mask in masks.items():
            per_tf = np.stack(
                [mask[:, zones.tf_index == i].any(axis=1) for i in range(len(timeframes))],
                axis=1,
            )
            counts[direction] = np.array(
                [_votes(zones, np.flatnonzero(row), timeframes) for row in mask], dtype=np.int64
            )
            ok = counts[direction] >= params.min_confluence
            if params.require_higher_timeframe:
                ok &= per_tf[:, higher].any(axis=1)
            qualifies[direction] = ok
        bull, bear = Direction.BULLISH, Direction.BEARISH
        both = qualifies[bull] & qualifies[bear]
        qualifies[bull] = qualifies[bull] & ~(both & (counts[bull] <= counts[bear]))
        qualifies[bear] = qualifies[bear] & ~(both & (counts[bear] <= counts[bull]))
        for row in np.flatnonzero(qualifies[bull] | qualifies[bear]).tolist():
            direction = bull if qualifies[bull][row] else bear
            moment = int(t[row])
            previous = last[direction]
            if previous is not None and moment - previous < params.cooldown_ms:
                continue
            step = begin + row
            drafts.append(
                _draft(zones, masks[direction][row], direction, steps, step, timeframes, params)
            )
            last[direction] = moment
    return drafts


def _actionable(
    zones: ZoneBook, t: IntArray, price: FloatArray, proximity: float
) -> dict[Direction, BoolArray]:
    p = price[:, None]
    reach = proximity * p
    open_ = (zones.formed_at[None, :] <= t[:, None]) & (zones.ends_at[None, :] > t[:, None])
    low, high = zones.zone_low[None, :], zones.zone_high[None, :]
    bull_near = (low <= p) & (p - high <= reach)
    bear_near = (p <= high) & (low - p <= reach)
    return {
        Direction.BULLISH: open_ & bull_near & zones.bullish[None, :],
        Direction.BEARISH: open_ & bear_near & ~zones.bullish[None, :],
    }


def _draft(
    zones: ZoneBook,
    mask: BoolArray,
    direction: Direction,
    steps: Steps,
    step: int,
    timeframes: Sequence[str],
    params: SignalParams,
) -> SignalDraft:
    rows = np.flatnonzero(mask)
    price = float(steps.close[step])
    bullish = direction is Direction.BULLISH
    gap = np.maximum(
        0.0, price - zones.zone_high[rows] if bullish else zones.zone_low[rows] - price
    )
    # Nearest zone first; among equals the higher timeframe, then the stronger zone.
    order = np.lexsort((-zones.strength[rows], -zones.tf_index[rows], gap))
    entry = int(rows[order[0]])
    used = sorted(set(zones.tf_index[rows].tolist()))
    best = [float(zones.strength[rows][zones.tf_index[rows] == i].max()) for i in used]
    atr = float(steps.atr[step])
    levels = signal_levels(
        direction,
        zone_low=float(zones.zone_low[entry]),
        zone_high=float(zones.zone_high[entry]),
        price=price,
        atr=atr,
        params=params,
    )
    clusters = _clusters(zones, rows, timeframes)
    return SignalDraft(
        confluence=_votes(zones, rows, timeframes),
        clusters=tuple(sorted(tuple(sorted(int(zones.ref[r]) for r in c)) for c in clusters)),
        created_at=int(steps.time[step]),
        direction=direction,
        timeframes=tuple(timeframes[i] for i in used),
        score=sum(best) / len(best),
        price=price,
        atr=atr,
        levels=levels,
        entry_ref=int(zones.ref[entry]),
        zone_refs=tuple(sorted(int(r) for r in zones.ref[rows].tolist())),
    )


def _same_event(zones: ZoneBook, a: int, b: int, timeframes: Sequence[str]) -> bool:
    ms_a, ms_b = (TIMEFRAME_MS[timeframes[zones.tf_index[r]]] for r in (a, b))
    f_a, f_b = int(zones.formed_at[a]), int(zones.formed_at[b])
    if ms_a == ms_b:
        window = f_a == f_b
    elif ms_a < ms_b:
        window = f_b - ms_b < f_a <= f_b
    else:
        window = f_a - ms_a < f_b <= f_a
    overlap = zones.zone_low[a] <= zones.zone_high[b] and zones.zone_low[b] <= zones.zone_high[a]
    return bool(window and overlap and zones.bullish[a] == zones.bullish[b])


def _clusters(zones: ZoneBook, rows: IntArray, timeframes: Sequence[str]) -> list[list[int]]:
    parent = {int(r): int(r) for r in rows}

    def root(r: int) -> int:
        while parent[r] != r:
            r = parent[r]
        return r

    for i, a in enumerate(rows.tolist()):
        for b in rows.tolist()[i + 1 :]:
            if _same_event(zones, a, b, timeframes):
                parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for r in rows.tolist():
        groups.setdefault(root(r), []).append(r)
    return list(groups.values())


def _votes(zones: ZoneBook, rows: IntArray, timeframes: Sequence[str]) -> int:
    """Timeframes matched to distinct clusters (Kuhn's augmenting paths)."""
    clusters = _clusters(zones, rows, timeframes)
    reach = {
        tf: [
            c for c, members in enumerate(clusters) if any(zones.tf_index[m] == tf for m in members)
        ]
        for tf in {int(zones.tf_index[r]) for r in rows}
    }
    owner: dict[int, int] = {}

    def assign(tf: int, seen: set[int]) -> bool:
        for c in reach[tf]:
            if c not in seen:
                seen.add(c)
                if c not in owner or assign(owner[c], seen):
                    owner[c] = tf
                    return True
        return False

    return sum(assign(tf, set()) for tf in reach)
