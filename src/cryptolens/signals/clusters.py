"""One event, one vote: zones on several timeframes that are the same market event are
clustered, and confluence counts the clusters, not the timeframes.

Rules (documented in the README, "Signals"):

* A zone's *deciding candle* is the candle whose close made it known; ``formed_at`` is that
  candle's close time for every pattern: the third candle of a fair value gap, the candle
  that breaks structure and so confirms an order block (not the order-block candle itself,
  which is ``candle_time``), the sweeping candle of a liquidity sweep.
* Two zones of one direction are **the same event** when their deciding candles fall in the
  same window of the longer timeframe - the shorter one's deciding candle closes within the
  longer one's (``formed_at_long - tf_long < formed_at_short <= formed_at_long``; on one
  timeframe: the same deciding candle) - and their price ranges overlap (edges touching
  count).
* At a step, the actionable zones of one direction are split into **clusters**: the
  connected groups of that relation (two zones linked through a third are one event).
* **Votes**: each cluster votes once and each timeframe once. Confluence is the largest
  number of timeframes that can each be given a different cluster (a maximum matching of
  timeframes to clusters). It never exceeds the number of timeframes, equals it when no two
  zones share a window, and is 1 for a single sweep seen on 1h, 2h and 4h.

The matching is found, for many (step, direction) groups at once, through Hall's theorem: its
size is the number of timeframes minus the largest deficiency ``|S| - |N(S)|`` over sets ``S``
of them, ``N(S)`` being the clusters with a zone on a timeframe of ``S``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from cryptolens.domain.timeframes import timeframe_ms

if TYPE_CHECKING:
    from cryptolens.signals.confluence import ZoneBook

IntArray = npt.NDArray[np.int64]


def event_links(book: ZoneBook, timeframes: Sequence[str]) -> tuple[IntArray, IntArray]:
    """Rows ``(a, b)`` of every pair of zones in ``book`` that are the same event, each pair
    once, ``a`` on the shorter (or the same) timeframe, sorted by ``a``."""
    tf_ms = np.array([timeframe_ms(tf) for tf in timeframes], dtype=np.int64)
    formed, tf = book.formed_at, book.tf_index
    ms = tf_ms[tf]
    firsts, seconds = [], []
    for longer in np.unique(tf).tolist():
        width = int(tf_ms[longer])
        rows = np.flatnonzero(tf == longer)
        rows = rows[np.argsort(formed[rows], kind="stable")]
        closes = formed[rows]
        shorter = np.flatnonzero(ms <= width)
        # The longer zones whose deciding candle holds the shorter one's close.
        lo = np.searchsorted(closes, formed[shorter], side="left")
        hi = np.searchsorted(closes, formed[shorter] + width, side="left")
        count = hi - lo
        a = np.repeat(shorter, count)
        b = rows[np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(a.shape[0])]
        same_tf = tf[a] == longer
        keep = (
            (book.bullish[a] == book.bullish[b])
            & (book.zone_low[a] <= book.zone_high[b])
            & (book.zone_low[b] <= book.zone_high[a])
            & (~same_tf | ((formed[a] == formed[b]) & (a < b)))
        )
        firsts.append(a[keep])
        seconds.append(b[keep])
    if not firsts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    order = np.argsort(a, kind="stable")
    return a[order], b[order]


def cluster_nodes(
    group: IntArray, zone: IntArray, links: tuple[IntArray, IntArray], n_zones: int
) -> IntArray:
    """For (group, zone) pairs sorted by group then zone (a group: one step and direction),
    each pair's cluster: the position of the first pair of its cluster. ``links`` are
    ``event_links`` sorted by their first row."""
    n = group.shape[0]
    label = np.arange(n, dtype=np.int64)
    first, second = links
    if n == 0 or first.shape[0] == 0:
        return label
    key = group * n_zones + zone
    # Each pair's links, looked for among the pairs of the same group.
    begin = np.searchsorted(first, zone, side="left")
    count = np.searchsorted(first, zone, side="right") - begin
    node = np.repeat(np.arange(n), count)
    at = np.repeat(begin - (np.cumsum(count) - count), count) + np.arange(node.shape[0])
    wanted = group[node] * n_zones + second[at]
    pos = np.minimum(np.searchsorted(key, wanted), n - 1)
    found = key[pos] == wanted
    u, v = node[found], pos[found]
    if u.shape[0] == 0:
        return label
    while True:  # the smallest position in each connected group, by propagation
        new = label.copy()
        low = np.minimum(label[u], label[v])
        np.minimum.at(new, u, low)
        np.minimum.at(new, v, low)
        new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def votes(
    group: IntArray,
    tf_index: IntArray,
    cluster: IntArray,
    n_groups: int,
    alone: IntArray | None = None,
) -> IntArray:
    """Per group (0 .. n_groups - 1), the largest number of timeframes each given a
    different cluster, from its nodes' group, timeframe and cluster (``cluster_nodes``);
    ``alone`` adds per group the timeframes (a bit set) holding zones of their own that
    were left out of the nodes."""
    # One row per cluster with the bit set of its timeframes.
    ids, row = np.unique(cluster, return_inverse=True)
    mask = np.zeros(ids.shape[0], dtype=np.int64)
    np.bitwise_or.at(mask, row, np.left_shift(1, tf_index))
    cgroup = np.zeros(ids.shape[0], dtype=np.int64)
    cgroup[row] = group
    present = np.zeros(n_groups, dtype=np.int64) if alone is None else alone.copy()
    np.bitwise_or.at(present, cgroup, mask)
    sizes = _popcount(present)
    # A timeframe with a cluster of its own alone votes with it: no other timeframe needs
    # that cluster, and it frees any other. Only the rest can fall short.
    single = _popcount(mask) == 1
    own = np.zeros(n_groups, dtype=np.int64) if alone is None else alone.copy()
    np.bitwise_or.at(own, cgroup[single], mask[single])
    rest = present & ~own
    left = rest[cgroup] & mask
    contested = _popcount(left) > 1
    hard = np.unique(cgroup[contested])
    if hard.shape[0] == 0:
        return sizes
    # Each hard group's remaining timeframes renumbered 0 .. k - 1, then the groups of each k
    # together (k is small: a row of 2 ** k counts per group).
    keep = np.isin(cgroup, hard) & (left != 0)
    local = np.searchsorted(hard, cgroup[keep])
    packed, width = _pack(left[keep], rest[hard][local]), _popcount(rest[hard])
    deficiency = np.zeros(hard.shape[0], dtype=np.int64)
    for k in np.unique(width).tolist():
        if k < 2:
            continue
        groups = np.flatnonzero(width == k)
        rows = np.isin(local, groups)
        deficiency[groups] = _deficiency(
            np.searchsorted(groups, local[rows]), packed[rows], groups.shape[0], k
        )
    out = sizes.copy()
    out[hard] -= deficiency
    return out


def _pack(mask: IntArray, rest: IntArray) -> IntArray:
    """``mask``'s bits among those of ``rest``, renumbered from 0 in order."""
    packed = np.zeros_like(mask)
    position = np.zeros_like(mask)
    for bit in range(int(rest.max()).bit_length()):
        there = (rest >> bit) & 1
        packed |= ((mask >> bit) & 1) << position
        position += there
    return packed


def _deficiency(group: IntArray, mask: IntArray, n_groups: int, bits: int) -> IntArray:
    """Per group, the largest ``|S| - |N(S)|`` over sets ``S`` of its ``bits`` timeframes
    (0 for the empty set), from its clusters' timeframe bit sets ``mask``."""
    size = 1 << bits
    # within[g, T]: clusters of g whose timeframes all lie in T (a subset-sum transform).
    within = np.zeros((n_groups, size), dtype=np.int64)
    np.add.at(within, (group, mask), 1)
    for bit in range(bits):
        view = within.reshape(n_groups, -1, 2, 1 << bit)
        view[:, :, 1, :] += view[:, :, 0, :]
    sets = np.arange(size, dtype=np.int64)
    # N(S): the clusters not wholly outside S.
    reached = within[:, -1:] - within[:, (size - 1) ^ sets]
    deficiency: IntArray = np.maximum((_popcount(sets)[None, :] - reached).max(axis=1), 0)
    return deficiency


@dataclass(frozen=True, slots=True)
class Events:
    """Zones taken together (as if all were actionable at once): their clusters, as
    positions in the zones given, and the votes they make."""

    clusters: tuple[tuple[int, ...], ...]
    votes: int


def zone_events(
    timeframe: Sequence[str],
    bullish: Sequence[bool],
    zone_low: Sequence[float],
    zone_high: Sequence[float],
    formed_at: Sequence[int],
) -> Events:
    """The market events of a few zones (one signal's), by the rules of this module: the
    clusters (positions ascending within one, clusters by their first position) and the
    votes (of the more voting direction, when both are given)."""
    from cryptolens.signals.confluence import ZoneBook

    n = len(timeframe)
    if n == 0:
        return Events((), 0)
    names = sorted(set(timeframe), key=timeframe_ms)
    # Bearish zones first, as ``cluster_nodes`` wants its groups (here: the directions).
    order = np.lexsort((np.arange(n), np.array(bullish, dtype=bool)))
    book = ZoneBook(
        ref=order.astype(np.int64),
        tf_index=np.array([names.index(tf) for tf in timeframe], dtype=np.int64)[order],
        bullish=np.array(bullish, dtype=bool)[order],
        zone_low=np.array(zone_low, dtype=np.float64)[order],
        zone_high=np.array(zone_high, dtype=np.float64)[order],
        formed_at=np.array(formed_at, dtype=np.int64)[order],
        ends_at=np.zeros(n, dtype=np.int64),
        strength=np.zeros(n, dtype=np.float64),
    )
    side = book.bullish.astype(np.int64)
    rows = np.arange(n, dtype=np.int64)
    label = cluster_nodes(side, rows, event_links(book, names), n)
    return Events(
        tuple(group_refs(book.ref, label)), int(votes(side, book.tf_index, label, 2).max())
    )


def group_refs(refs: IntArray, cluster: IntArray) -> list[tuple[int, ...]]:
    """``refs`` grouped by ``cluster``: ascending within a group, groups by their first ref."""
    groups: dict[int, list[int]] = {}
    for ref, label in zip(refs.tolist(), cluster.tolist(), strict=True):
        groups.setdefault(label, []).append(ref)
    return sorted(tuple(sorted(g)) for g in groups.values())


def _popcount(values: IntArray) -> IntArray:
    count = np.zeros_like(values)
    rest = values.copy()
    while rest.any():
        count += rest & 1
        rest >>= 1
    return count
