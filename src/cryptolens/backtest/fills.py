"""A signal's order through the candles: the fill, partial exits, the stop, the timeout.

The rules are live outcome tracking's (``signals/outcome.py``), with the exit fractions and the
break-even move made configurable: a limit entry filled by the first candle opening at or after
the signal whose wick reaches it (cancelled at ``expires_at``); on the entry candle a stop is
certain but targets count only when finer candles show the order; a candle reaching both the
active stop and a new target is settled by finer candles when given, else counted as the stop
(and the trade is marked ambiguous); a trade still open ``max_hold_ms`` after its fill closes
at the close of the candle reaching that time. With thirds and break-even (the defaults) the
path's R is live tracking's ``r_multiple``; a test checks it on real history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from cryptolens.detect.candles import Candles
from cryptolens.domain.enums import Direction
from cryptolens.signals import FinerCandles

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
#: Remaining position below this fraction is nothing.
_EPS = 1e-12
#: Candles scanned per search block while looking for the next event.
_BLOCK = 256


class ExitReason(StrEnum):
    TP1 = "tp1"
    TP2 = "tp2"
    TP3 = "tp3"
    STOP = "stop"
    BREAK_EVEN = "break_even"
    TIMEOUT = "timeout"
    #: Still open when the data ends: valued at the last close.
    END = "end_of_data"


_TARGET_REASONS = (ExitReason.TP1, ExitReason.TP2, ExitReason.TP3)


@dataclass(frozen=True, slots=True)
class Exit:
    """One exit fill of a fraction of the position, at an order's price (before slippage)."""

    time: int
    price: float
    fraction: float
    reason: ExitReason

    @property
    def is_limit(self) -> bool:
        return self.reason in _TARGET_REASONS


@dataclass(frozen=True, slots=True)
class Plan:
    """A signal's orders."""

    direction: Direction
    entry: float
    stop: float
    targets: tuple[float, float, float]
    created_at: int
    expires_at: int
    max_hold_ms: int


@dataclass(frozen=True, slots=True)
class Path:
    """What the candles did to one plan: fill time and exits (empty if never filled)."""

    plan: Plan
    filled_at: int | None
    exits: tuple[Exit, ...]
    #: A candle reached the stop and a target with no finer candles: counted as the stop.
    ambiguous: bool
    #: A candle reaching both was settled by finer candles.
    resolved_by_finer: bool

    @property
    def closed_at(self) -> int | None:
        return self.exits[-1].time if self.exits else None

    def r_multiple(self) -> float | None:
        """Result in units of the initial risk, before costs (None if never filled)."""
        if self.filled_at is None:
            return None
        sign = 1.0 if self.plan.direction is Direction.BULLISH else -1.0
        risk = abs(self.plan.entry - self.plan.stop)
        return sum(e.fraction * sign * (e.price - self.plan.entry) for e in self.exits) / risk


@dataclass(frozen=True, slots=True)
class Series:
    """Candles in a trade's signed space: ``fav`` favourable extreme, ``adv`` adverse one."""

    open_time: IntArray
    fav: FloatArray
    adv: FloatArray
    close: FloatArray
    step_ms: int

    @classmethod
    def of(cls, candles: Candles, step_ms: int, direction: Direction) -> Series:
        if direction is Direction.BULLISH:
            return cls(candles.open_time, candles.high, candles.low, candles.close, step_ms)
        return cls(candles.open_time, -candles.low, -candles.high, candles.close, step_ms)

    def __len__(self) -> int:
        return int(self.open_time.shape[0])


@dataclass
class _Walk:
    """The mutable state of one plan while candles are folded into it."""

    plan: Plan
    fractions: tuple[float, float, float]
    break_even: bool
    sign: float
    filled_at: int | None = None
    hits: int = 0
    remaining: float = 1.0
    exits: list[Exit] = field(default_factory=list)
    ambiguous: bool = False
    resolved: bool = False
    done: bool = False
    #: Index of the next candle to fold.
    at: int = 0

    def active_stop(self) -> float:
        return self.plan.entry if self.hits and self.break_even else self.plan.stop

    def close_all(self, time: int, price: float, reason: ExitReason) -> None:
        if self.remaining > _EPS:
            self.exits.append(Exit(time, price, self.remaining, reason))
        self.remaining = 0.0
        self.done = True

    def hit_targets(self, time: int, new: int) -> None:
        for index in range(self.hits, self.hits + new):
            part = min(self.fractions[index], self.remaining)
            if index == 2:
                part = self.remaining
            if part > _EPS:
                self.exits.append(
                    Exit(time, self.plan.targets[index], part, _TARGET_REASONS[index])
                )
                self.remaining -= part
        self.hits += new
        if self.hits == 3 or self.remaining <= _EPS:
            self.remaining = 0.0
            self.done = True


def walk(
    plan: Plan,
    series: Series,
    *,
    fractions: tuple[float, float, float],
    break_even: bool,
    finer: FinerCandles | None = None,
) -> Path:
    """The plan's fill and exits over ``series`` (candles opening at or after the signal)."""
    state = _Walk(plan, fractions, break_even, 1.0 if plan.direction is Direction.BULLISH else -1.0)
    state.at = int(np.searchsorted(series.open_time, plan.created_at, side="left"))
    _fold(state, series, finer)
    if not state.done and state.filled_at is not None and len(series):
        state.close_all(
            int(series.open_time[-1]) + series.step_ms,
            float(series.close[-1]),
            ExitReason.END,
        )
    return Path(plan, state.filled_at, tuple(state.exits), state.ambiguous, state.resolved)


def _fold(state: _Walk, s: Series, finer: FinerCandles | None) -> None:
    while not state.done and state.at < len(s):
        if state.filled_at is None:
            if not _pending(state, s, finer):
                return
        else:
            _triggered(state, s, finer)


def _first(mask_of: Callable[[slice], BoolArray], s: Series, begin: int, end: int) -> int:
    """Index of the first candle in [begin, end) where ``mask_of(slice)`` holds, else end."""
    at = begin
    while at < end:
        stop = min(end, at + _BLOCK)
        hit = mask_of(slice(at, stop))
        first = int(hit.argmax())  # the first True, or 0 when there is none
        if hit[first]:
            return at + first
        at = stop
    return end


def _pending(state: _Walk, s: Series, finer: FinerCandles | None) -> bool:
    """Fold candles until the entry fills; False when the order expires or the data ends."""
    plan, sign = state.plan, state.sign
    expiry = int(np.searchsorted(s.open_time, plan.expires_at, side="left"))
    entry = sign * plan.entry
    j = _first(lambda r: s.adv[r] <= entry, s, state.at, max(expiry, state.at))
    if j >= len(s) or j >= expiry:
        state.done = expiry < len(s)  # expired unfilled; else the data ended first
        state.at = len(s)
        return False
    open_time = int(s.open_time[j])
    close_time = open_time + s.step_ms
    if s.fav[j] >= sign * plan.targets[0] and finer is not None and _resolve(state, s, j, finer):
        return True
    state.filled_at = close_time
    state.at = j + 1
    if s.adv[j] <= sign * plan.stop:
        # Price passed the entry on its way to the stop: certain, whatever the order inside.
        state.close_all(close_time, plan.stop, ExitReason.STOP)
    else:
        _maybe_timeout(state, s, j)
    return True


def _triggered(state: _Walk, s: Series, finer: FinerCandles | None) -> None:
    """Fold candles of a filled trade up to its next event (stop, targets or timeout)."""
    plan, sign = state.plan, state.sign
    assert state.filled_at is not None
    # The first candle whose close reaches the maximum hold.
    moment = state.filled_at + plan.max_hold_ms - s.step_ms
    timeout = int(np.searchsorted(s.open_time, moment, side="left"))
    stop = sign * state.active_stop()
    target = sign * plan.targets[state.hits]
    end = min(len(s), timeout + 1)
    j = _first(lambda r: (s.adv[r] <= stop) | (s.fav[r] >= target), s, state.at, end)
    if j >= end:
        state.at = end
        if timeout < len(s):
            _maybe_timeout(state, s, timeout)
        return
    close_time = int(s.open_time[j]) + s.step_ms
    stop_hit = bool(s.adv[j] <= stop)
    new = sum(1 for level in plan.targets[state.hits :] if s.fav[j] >= sign * level)
    if stop_hit and new:
        if finer is not None and _resolve(state, s, j, finer):
            return
        state.ambiguous = True
    state.at = j + 1
    if stop_hit:
        reason = ExitReason.BREAK_EVEN if state.hits and state.break_even else ExitReason.STOP
        state.close_all(close_time, state.active_stop(), reason)
        return
    state.hit_targets(close_time, new)
    if not state.done:
        _maybe_timeout(state, s, j)


def _maybe_timeout(state: _Walk, s: Series, j: int) -> None:
    assert state.filled_at is not None
    close_time = int(s.open_time[j]) + s.step_ms
    if close_time - state.filled_at >= state.plan.max_hold_ms:
        state.close_all(close_time, float(s.close[j]), ExitReason.TIMEOUT)


def _resolve(state: _Walk, s: Series, j: int, finer: FinerCandles) -> bool:
    """Fold the finer candles of candle ``j`` instead of it; False if there are none."""
    open_time = int(s.open_time[j])
    found = finer(open_time, s.step_ms)
    if found is None or len(found[0]) == 0:
        return False
    inner_candles, inner_step = found
    inner = Series.of(inner_candles, inner_step, state.plan.direction)
    resume = state.at
    state.at = 0
    _fold(state, inner, None)
    state.at = max(resume, j + 1)
    state.resolved = True
    return True
