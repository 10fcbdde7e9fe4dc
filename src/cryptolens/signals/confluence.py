"""Confluence: at each closed base candle, count the timeframes holding an open zone aligned
with a direction and near enough to the price to trade, and draft a signal where enough agree.

Rules (documented in the README):

* A zone counts at time ``t`` if it was known (``formed_at <= t``) and still open
  (``ends_at > t``: not yet filled, invalidated or expired).
* It is actionable if price is inside it, or on the side price approaches it from and at
  most ``proximity`` x price from its near edge: above a bullish zone, below a bearish one.
* One event, one vote (``signals.clusters``): zones of several timeframes whose deciding
  candles fall in the same window of the longer timeframe and whose ranges overlap are one
  market event; each event votes once and each timeframe once, and ``min_confluence`` votes
  are needed, optionally with a zone of 4h or 1d among them. If both directions qualify at
  once, the one with more votes wins and a tie is a conflict: no signal. The signal still
  lists every timeframe that held a zone.
* A signal of the same direction within ``cooldown_ms`` of the previous one is suppressed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from cryptolens.signals.clusters import event_links, group_refs
from cryptolens.signals.levels import Levels, signal_levels
from cryptolens.signals.params import HIGHER_TIMEFRAMES, SignalParams
from cryptolens.signals.voting import Voter

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: ``ends_at`` of a zone that is still open.
OPEN_END = np.iinfo(np.int64).max
#: Steps per block: zones far from every close of a block are not tested in it.
BLOCK = 16
#: (step, zone) pairs tested at once.
_CHUNK = 1 << 16
#: Zones paired with blocks at once.
_ZONES = 1 << 13


@dataclass(frozen=True, slots=True, eq=False)
class ZoneBook:
    """One symbol's zones across timeframes, as parallel columns."""

    #: The caller's reference for each zone (e.g. its position in the caller's list).
    ref: IntArray
    #: Index of the zone's timeframe in the ``timeframes`` passed to ``find_signals``.
    tf_index: IntArray
    bullish: BoolArray
    zone_low: FloatArray
    zone_high: FloatArray
    formed_at: IntArray
    #: First moment the zone is no longer open (``OPEN_END`` while it is).
    ends_at: IntArray
    strength: FloatArray

    def __len__(self) -> int:
        return int(self.ref.shape[0])

    def take(self, rows: IntArray | BoolArray) -> ZoneBook:
        return ZoneBook(
            self.ref[rows],
            self.tf_index[rows],
            self.bullish[rows],
            self.zone_low[rows],
            self.zone_high[rows],
            self.formed_at[rows],
            self.ends_at[rows],
            self.strength[rows],
        )


@dataclass(frozen=True, slots=True)
class SignalDraft:
    """A signal decided at ``created_at`` (the close of a base candle)."""

    created_at: int
    direction: Direction
    timeframes: tuple[str, ...]
    score: float
    price: float
    atr: float
    levels: Levels
    #: ``ref`` of the zone the entry trades, and of every zone that made the signal.
    entry_ref: int
    zone_refs: tuple[int, ...]
    #: Votes: timeframes each given a different market event (``signals.clusters``).
    confluence: int
    #: ``zone_refs`` by market event: refs ascending within one, events by their first ref.
    clusters: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Made:
    """The (step, zone) pairs that made signals, sorted by step then zone, with each pair's
    cluster (``signals.clusters.cluster_nodes``), and each signal's votes."""

    step: IntArray
    zone: IntArray
    cluster: IntArray
    votes: IntArray


@dataclass(frozen=True, slots=True)
class Steps:
    """Closed base candles to evaluate at: close time, close price and ATR."""

    time: IntArray
    close: FloatArray
    atr: FloatArray

    def __len__(self) -> int:
        return int(self.time.shape[0])


def find_signals(
    book: ZoneBook,
    steps: Steps,
    timeframes: Sequence[str],
    params: SignalParams,
    last_signal_at: Mapping[Direction, int | None],
) -> list[SignalDraft]:
    """Signals at each step in time order, given the previous signal time per direction.

    ``steps`` are in time order and every ``tf_index`` names one of ``timeframes``. The
    rules need, per step and direction, only which timeframes hold an actionable zone: that
    is found for all steps at once from the (step, zone) pairs that may be actionable
    (``_near_pairs``), and the zones themselves only at the steps that make a signal."""
    n, n_tf = len(steps), len(timeframes)
    if len(book) and (int(book.tf_index.min()) < 0 or int(book.tf_index.max()) >= n_tf):
        raise ValidationError("a zone's tf_index names none of the timeframes")
    if n == 0 or len(book) == 0:
        return []
    t, close, proximity = steps.time, steps.close, params.proximity
    opens = np.searchsorted(t, book.formed_at, side="left")
    ends = np.searchsorted(t, book.ends_at, side="left")
    zone, first, last, whole = _near_pairs(book, opens, ends, close, proximity)
    # Zones linked to none are events of their own; the linked ones may share clusters.
    links = event_links(book, timeframes)
    linked = np.zeros(len(book), dtype=bool)
    linked[links[0]] = linked[links[1]] = True
    mine = linked[zone]
    held_linked, held_alone = (
        _held(book, n, n_tf, zone[m], first[m], last[m], whole[m], close, proximity)
        for m in (mine, ~mine)
    )
    held = held_linked | held_alone
    # Timeframes held per step and direction (a byte sum: fewer than 256 timeframes): an
    # upper bound of the votes, which are counted only where a signal could come of them
    # and two timeframes hold linked zones.
    ones = np.ones(n_tf, dtype=np.uint8)
    counts = (held.view(np.uint8) @ ones).astype(np.int64)
    own = held_alone.astype(np.int64) @ np.left_shift(1, np.arange(n_tf, dtype=np.int64))
    higher_ok: BoolArray = np.ones((n, 2), dtype=bool)
    if params.require_higher_timeframe:
        higher = np.array([tf in HIGHER_TIMEFRAMES for tf in timeframes], dtype=bool)
        higher_ok = np.asarray(held[:, :, higher].any(axis=2), dtype=bool)
    near_linked = (zone[mine], first[mine], last[mine])
    voter = Voter(book, links, near_linked, close, proximity, counts, own, BLOCK)
    may_share = (held_linked.view(np.uint8) @ ones) >= 2
    voter.settle(
        np.flatnonzero(((counts >= params.min_confluence) & higher_ok & may_share).any(axis=1))
    )
    ok = (counts >= params.min_confluence) & higher_ok
    # Both directions: more votes win, a tie is a conflict.
    both = ok[:, 0] & ok[:, 1]
    bull_ok = ok[:, 1] & ~(both & (counts[:, 1] <= counts[:, 0]))
    bear_ok = ok[:, 0] & ~(both & (counts[:, 0] <= counts[:, 1]))
    chosen = {
        direction: _after_cooldown(
            np.flatnonzero(qualifies), steps.time, params.cooldown_ms, last_signal_at.get(direction)
        )
        for direction, qualifies in ((Direction.BULLISH, bull_ok), (Direction.BEARISH, bear_ok))
    }
    bull_at = np.zeros(n, dtype=bool)
    bull_at[chosen[Direction.BULLISH]] = True
    at_signal = bull_at.copy()
    at_signal[chosen[Direction.BEARISH]] = True
    signal_steps = np.flatnonzero(at_signal)
    # The zones that made each signal: actionable at its step, in its direction.
    in_block = np.zeros(-(-n // BLOCK), dtype=bool)
    in_block[signal_steps // BLOCK] = True
    near = in_block[first // BLOCK]
    step, zone, cluster = voter.pairs(signal_steps, (zone[near], first[near], last[near]))
    keep = book.bullish[zone] == bull_at[step]
    made = Made(
        step[keep],
        zone[keep],
        cluster[keep],
        counts[signal_steps, bull_at[signal_steps].astype(np.int64)],
    )
    return _drafts(book, steps, timeframes, params, signal_steps, made)


def _after_cooldown(
    qualifying: IntArray, time: IntArray, cooldown_ms: int, previous: int | None
) -> list[int]:
    """The qualifying steps (one direction) that make a signal: each at least
    ``cooldown_ms`` after the previous signal of the direction (``previous`` at first)."""
    moments = time[qualifying]
    at = 0 if previous is None else int(np.searchsorted(moments, previous + cooldown_ms))
    if cooldown_ms == 0:
        return [int(s) for s in qualifying[at:].tolist()]
    picked = []
    while at < moments.shape[0]:
        picked.append(int(qualifying[at]))
        # The next signal is the first qualifying step at least cooldown_ms later.
        at = int(np.searchsorted(moments, moments[at] + cooldown_ms))
    return picked


def _held(
    book: ZoneBook,
    n: int,
    n_tf: int,
    zone: IntArray,
    first: IntArray,
    last: IntArray,
    whole: BoolArray,
    close: FloatArray,
    proximity: float,
) -> BoolArray:
    """``held[s, d, tf]``: a zone of timeframe ``tf`` and direction ``d`` (1 bullish, 0
    bearish) is actionable at step ``s``, from the near pairs of ``_near_pairs``.

    A (block, direction, timeframe) with a zone actionable over the whole block is held at
    every step of it; the other pairs are tested step by step (``_exact``)."""
    block = first // BLOCK
    key = (block * 2 + book.bullish[zone]) * n_tf + book.tf_index[zone]
    blocks = -(-n // BLOCK)
    by_block = np.zeros(blocks * 2 * n_tf, dtype=bool)
    by_block[key[whole]] = True
    rest = ~by_block[key]
    zone, first, last = zone[rest], first[rest], last[rest]
    # Whole blocks of steps (the last one padded), so a block's row broadcasts over its steps.
    flat = np.zeros(blocks * BLOCK * 2 * n_tf, dtype=bool)
    for bullish in (True, False):
        side = book.bullish[zone] == bullish
        z, f, e = zone[side], first[side], last[side]
        # In chunks of about _CHUNK steps, so a chunk's columns stay in the CPU cache.
        total = np.cumsum(e - f)
        cuts = np.searchsorted(total, np.arange(_CHUNK, int(total[-1]) if z.size else 0, _CHUNK))
        edges = [0, *(cuts + 1).tolist(), z.shape[0]]
        for a, b in pairwise(edges):
            if b > a:
                step, hit = _exact(z[a:b], f[a:b], e[a:b], book, close, proximity, bullish)
                flat[(step * 2 + bullish) * n_tf + book.tf_index[hit]] = True
    flat.reshape(blocks, BLOCK, 2 * n_tf)[...] |= by_block.reshape(blocks, 1, 2 * n_tf)
    return flat.reshape(blocks * BLOCK, 2, n_tf)[:n]


def _exact(
    zone: IntArray,
    first: IntArray,
    last: IntArray,
    book: ZoneBook,
    close: FloatArray,
    proximity: float,
    bullish: bool,
) -> tuple[IntArray, IntArray]:
    """The (step, zone) pairs of ``zone``'s ranges of steps where it is actionable."""
    lengths = last - first
    step = np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
    step += np.arange(step.shape[0])
    p = close[step]
    low = np.repeat(book.zone_low[zone], lengths)
    high = np.repeat(book.zone_high[zone], lengths)
    if bullish:
        hit = (low <= p) & (p - high <= proximity * p)
    else:
        hit = (p <= high) & (low - p <= proximity * p)
    return step[hit], np.repeat(zone, lengths)[hit]


def _near_pairs(
    book: ZoneBook,
    opens: IntArray,
    ends: IntArray,
    close: FloatArray,
    proximity: float,
) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """Zones with the range of steps ``[first, last)`` of a block of ``BLOCK`` steps where
    they are open and may be actionable, zone-major, and whether they are surely actionable
    at every step of the block (``whole``).

    Price ``p`` makes a bullish zone actionable only inside ``[low, high + proximity p]``
    and a bearish one inside ``[low - proximity p, high]``; both ends grow with ``p``, so
    the block's lowest and highest close bound them (widened by a margin far above the
    rounding of the exact test)."""
    n = close.shape[0]
    starts = np.arange(0, n, BLOCK)
    with np.errstate(invalid="ignore", over="ignore"):
        low_p, high_p = np.fmin.reduceat(close, starts), np.fmax.reduceat(close, starts)
        scale = 1e-9 * (np.abs(low_p) + np.abs(high_p))
        margin = 1e-9 * (np.abs(book.zone_low) + np.abs(book.zone_high))
        # Bounds over the block's closes, as per-block columns.
        bull_floor = low_p - proximity * low_p - scale
        bull_sure = high_p - proximity * high_p + scale
        bear_ceiling = high_p + proximity * high_p + scale
        bear_sure = low_p + proximity * low_p - scale
    # A NaN close is never actionable: blocks with one are never certain.
    has_nan = np.add.reduceat(np.isnan(close), starts) > 0
    open_ = ends > opens
    first_block = np.where(open_, opens // BLOCK, 0)
    spans = np.where(open_, (ends - 1) // BLOCK - first_block + 1, 0)

    def near(rows: slice) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
        span = spans[rows]
        zone = np.repeat(np.arange(len(book))[rows], span)
        block = first_block[zone] + (
            np.arange(zone.shape[0]) - np.repeat(np.cumsum(span) - span, span)
        )
        low, high, bullish = book.zone_low[zone], book.zone_high[zone], book.bullish[zone]
        lo_p, hi_p = low_p[block], high_p[block]
        keep = np.where(
            bullish,
            (low <= hi_p) & (high + margin[zone] >= bull_floor[block]),
            (high >= lo_p) & (low - margin[zone] <= bear_ceiling[block]),
        )
        zone, block, low, high, bullish = (
            zone[keep],
            block[keep],
            low[keep],
            high[keep],
            bullish[keep],
        )
        lo_p, hi_p, m = lo_p[keep], hi_p[keep], margin[zone]
        # Actionable at every close of the block, by the same margin the other way.
        sure = np.where(
            bullish,
            (low <= lo_p) & (high - m >= bull_sure[block]),
            (high >= hi_p) & (low + m <= bear_sure[block]),
        )
        first = np.maximum(opens[zone], block * BLOCK)
        last = np.minimum(ends[zone], block * BLOCK + BLOCK)
        whole = sure & (first == block * BLOCK) & (last == np.minimum(block * BLOCK + BLOCK, n))
        return zone, first, last, whole & ~has_nan[block]

    # In chunks of zones, so the temporaries stay small and in the CPU cache.
    parts = [near(slice(a, a + _ZONES)) for a in range(0, len(book), _ZONES)]
    zone, first, last, whole = (np.concatenate(column) for column in zip(*parts, strict=True))
    return zone, first, last, whole


def _drafts(
    book: ZoneBook,
    steps: Steps,
    timeframes: Sequence[str],
    params: SignalParams,
    signal_steps: IntArray,
    made: Made,
) -> list[SignalDraft]:
    """The signals at ``signal_steps`` (ascending), each made by the zones of ``made`` at
    its step."""
    if signal_steps.shape[0] == 0:
        return []
    step, rows = made.step, made.zone
    bounds = [*np.searchsorted(step, signal_steps, side="left").tolist(), step.shape[0]]
    group = np.searchsorted(signal_steps, step)
    price = steps.close[step]
    bullish = book.bullish[rows]
    tf, strength = book.tf_index[rows], book.strength[rows]
    gap = np.maximum(
        0.0, np.where(bullish, price - book.zone_high[rows], book.zone_low[rows] - price)
    )
    # Nearest zone first; among equals the higher timeframe, then the stronger zone.
    entry_at = rows[np.lexsort((-strength, -tf, gap, group))][bounds[:-1]]
    # Each timeframe's strongest zone, timeframes ascending within a signal.
    key = group * len(timeframes) + tf
    by_key = np.argsort(key, kind="stable")
    firsts = np.flatnonzero(np.r_[True, np.diff(key[by_key]) != 0])
    best = np.maximum.reduceat(strength[by_key], firsts).tolist()
    used = tf[by_key][firsts].tolist()
    used_bounds = np.searchsorted(group[by_key][firsts], np.arange(len(bounds))).tolist()
    refs = book.ref[rows]
    by_ref = np.lexsort((refs, group))
    clusters, refs = made.cluster[by_ref], refs[by_ref]
    confluence = made.votes.tolist()
    entry_bullish = book.bullish[entry_at].tolist()
    entry_low, entry_high = book.zone_low[entry_at].tolist(), book.zone_high[entry_at].tolist()
    entry_refs = book.ref[entry_at].tolist()
    times = steps.time[signal_steps].tolist()
    prices, atrs = steps.close[signal_steps].tolist(), steps.atr[signal_steps].tolist()
    drafts = []
    for i in range(signal_steps.shape[0]):
        begin, end = used_bounds[i], used_bounds[i + 1]
        direction = Direction.BULLISH if entry_bullish[i] else Direction.BEARISH
        levels = signal_levels(
            direction,
            zone_low=entry_low[i],
            zone_high=entry_high[i],
            price=prices[i],
            atr=atrs[i],
            params=params,
        )
        strongest = best[begin:end]
        mine = slice(bounds[i], bounds[i + 1])
        drafts.append(
            SignalDraft(
                created_at=times[i],
                direction=direction,
                timeframes=tuple(timeframes[t] for t in used[begin:end]),
                score=sum(strongest) / len(strongest),
                price=prices[i],
                atr=atrs[i],
                levels=levels,
                entry_ref=entry_refs[i],
                zone_refs=tuple(refs[mine].tolist()),
                confluence=confluence[i],
                clusters=tuple(group_refs(refs[mine], clusters[mine])),
            )
        )
    return drafts
