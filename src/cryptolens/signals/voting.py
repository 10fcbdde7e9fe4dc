"""Votes (``signals.clusters``) counted at chosen steps of a history: the zones actionable at
each, found from the near pairs of ``confluence._near_pairs`` indexed by block, clustered, and
their votes written over the number of timeframes (which is never less than the votes, so
``find_signals`` counts votes only where the timeframes could make a signal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from cryptolens.signals.clusters import cluster_nodes, votes

if TYPE_CHECKING:
    from cryptolens.signals.confluence import ZoneBook

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class Voter:
    """Votes counted on demand: ``counts[s, d]`` (d: 1 bullish, 0 bearish) is exact where
    ``known[s]``, else the number of timeframes holding an actionable zone.

    Only zones linked to another (``event_links``) can share a cluster: the others are each
    an event of their own, given per step and direction as the bit set ``own`` of their
    timeframes, so only the linked zones' pairs are gathered."""

    def __init__(
        self,
        book: ZoneBook,
        links: tuple[IntArray, IntArray],
        near: tuple[IntArray, IntArray, IntArray],
        close: FloatArray,
        proximity: float,
        counts: IntArray,
        own: IntArray,
        block: int,
    ) -> None:
        self.book, self.close, self.proximity, self.block = book, close, proximity, block
        self.counts, self.own, self.links = counts, own, links
        self.known = np.zeros(close.shape[0], dtype=bool)
        zone, first, last = near
        # The linked zones' near pairs by block, so a few steps' pairs need no scan.
        where = first // block
        order = np.argsort(where, kind="stable")
        self.zone, self.first, self.last = zone[order], first[order], last[order]
        blocks = -(-close.shape[0] // block)
        self.starts = np.searchsorted(where[order], np.arange(blocks + 1))

    def settle(self, at: IntArray) -> None:
        """Count the votes at the steps ``at`` (unique)."""
        at = np.sort(at[~self.known[at]])
        if at.shape[0] == 0:
            return
        blocks = np.unique(at // self.block)
        lo, hi = self.starts[blocks], self.starts[blocks + 1]
        span = hi - lo
        rows = np.repeat(lo - (np.cumsum(span) - span), span) + np.arange(int(span.sum()))
        near = (self.zone[rows], self.first[rows], self.last[rows])
        step, zone, cluster = self.pairs(at, near)
        if step.shape[0]:
            group = step * 2 + self.book.bullish[zone]
            change = np.r_[False, group[1:] != group[:-1]]
            starts = np.flatnonzero(np.r_[True, change[1:]])
            keys = group[starts]
            count = votes(
                np.cumsum(change),
                self.book.tf_index[zone],
                cluster,
                starts.shape[0],
                self.own.reshape(-1)[keys],
            )
            self.counts.reshape(-1)[keys] = count
        self.known[at] = True

    def pairs(
        self, at: IntArray, near: tuple[IntArray, IntArray, IntArray]
    ) -> tuple[IntArray, IntArray, IntArray]:
        """The (step, zone) pairs actionable at the steps ``at`` (ascending, unique) among
        the ``near`` pairs, both directions, sorted by step, direction (bearish first) then
        zone, with each pair's cluster."""
        zone, first, last = near
        begin = np.searchsorted(at, first, side="left")
        count = np.searchsorted(at, last, side="left") - begin
        pair = np.repeat(np.arange(zone.shape[0]), count)
        step = at[np.repeat(begin - (np.cumsum(count) - count), count) + np.arange(pair.shape[0])]
        zone = zone[pair]
        book, p = self.book, self.close[step]
        reach = self.proximity * p
        low, high = book.zone_low[zone], book.zone_high[zone]
        bull = (low <= p) & (p - high <= reach)
        bear = (p <= high) & (low - p <= reach)
        hit = np.where(book.bullish[zone], bull, bear)
        step, zone = step[hit], zone[hit]
        group = step * 2 + book.bullish[zone]
        order = np.argsort(group * len(book) + zone, kind="stable")
        step, zone, group = step[order], zone[order], group[order]
        return step, zone, cluster_nodes(group, zone, self.links, len(book))
