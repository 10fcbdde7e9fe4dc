"""Outcome tracking: a pure fold of base candles into a signal's trade.

The trade is managed the same way for every signal, so outcomes compare:

* **Entry.** A limit order at the entry; the first candle (opening at or after the signal)
  whose wick reaches it triggers the trade. Not reached before ``expires_at``: unfilled.
* **Exits.** One third of the position at each target. The stop starts at the signal's
  stop and moves to the entry (break-even) once the first target is hit.
* **Same candle.** When one candle reaches both the active stop and a new target, the
  order inside the candle is unknown: finer candles decide if stored (``finer``), else the
  stop is counted first (the conservative choice). On the entry candle a stop reached is
  certain (price passed the entry on its way), but targets are not counted without finer
  candles, since the high may have come before the entry.
* **Timeout.** A trade still open ``max_hold_ms`` after its trigger closes at the close of
  the candle that reaches that time.

``r_multiple`` is the whole position's result in units of the initial risk. The outcome
is the highest target hit (tp1/tp2/tp3), else ``stop`` or ``timeout``; a trade with a
positive ``r_multiple`` is a win.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cryptolens.detect.candles import Candles
from cryptolens.domain.enums import Direction, SignalOutcome, SignalStatus

if TYPE_CHECKING:
    from cryptolens.signals.confluence import SignalDraft

#: Finer candles covering ``[open_time, open_time + step)`` of a coarse candle, with their
#: own step in ms, or None where none are stored.
FinerCandles = Callable[[int, int], tuple[Candles, int] | None]
PARTS = 3
_BLOCK = 64
_TARGET_OUTCOMES = (SignalOutcome.TP1, SignalOutcome.TP2, SignalOutcome.TP3)


@dataclass(frozen=True, slots=True)
class Trade:
    """Where one signal's trade is; advance it with newer base candles."""

    direction: Direction
    entry: float
    stop: float
    targets: tuple[float, float, float]
    created_at: int
    expires_at: int
    max_hold_ms: int
    status: SignalStatus = SignalStatus.PENDING
    outcome: SignalOutcome | None = None
    triggered_at: int | None = None
    closed_at: int | None = None
    targets_hit: int = 0
    r_multiple: float | None = None
    #: Open time of the last candle consumed, so no candle counts twice.
    tracked_through: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status in (SignalStatus.PENDING, SignalStatus.TRIGGERED)

    @property
    def risk(self) -> float:
        return abs(self.entry - self.stop)

    def r_at(self, price: float) -> float:
        """Price as a multiple of the initial risk, positive in the trade's favour."""
        sign = 1.0 if self.direction is Direction.BULLISH else -1.0
        return sign * (price - self.entry) / self.risk


def draft_trade(
    draft: SignalDraft,
    *,
    entry_ttl_ms: int,
    max_hold_ms: int,
) -> Trade:
    """The untracked trade of a new signal: its levels, the entry order's expiry and the
    maximum hold."""
    lv = draft.levels
    return Trade(
        direction=draft.direction,
        entry=lv.entry,
        stop=lv.stop,
        targets=lv.targets,
        created_at=draft.created_at,
        expires_at=draft.created_at + entry_ttl_ms,
        max_hold_ms=max_hold_ms,
    )


def track(trade: Trade, candles: Candles, step_ms: int, finer: FinerCandles | None = None) -> Trade:
    """Fold the candles opening at or after the signal (and after ``tracked_through``)."""
    if not trade.is_open or len(candles) == 0:
        return trade
    fold = Tracking(trade)
    start = int(np.searchsorted(candles.open_time, fold.first_open(), side="left"))
    if start == len(candles):
        return trade
    fold.candles(candles, start, step_ms, finer)
    return fold.trade()


class Tracking:
    """A trade being folded: ``Trade``'s fields, changed in place, and the rules of ``track``
    for one candle at a time (``candle``). ``trade()`` gives the ``Trade`` it has become."""

    __slots__ = (
        "bullish",
        "closed_at",
        "created_at",
        "direction",
        "entry",
        "expires_at",
        "max_hold_ms",
        "outcome",
        "r_multiple",
        "sign",
        "status",
        "stop",
        "targets",
        "targets_hit",
        "tracked_through",
        "triggered_at",
    )

    def __init__(self, t: Trade) -> None:
        self.direction = t.direction
        self.entry = t.entry
        self.stop = t.stop
        self.targets = t.targets
        self.created_at = t.created_at
        self.expires_at = t.expires_at
        self.max_hold_ms = t.max_hold_ms
        self.status = t.status
        self.outcome = t.outcome
        self.triggered_at = t.triggered_at
        self.closed_at = t.closed_at
        self.targets_hit = t.targets_hit
        self.r_multiple = t.r_multiple
        self.tracked_through = t.tracked_through
        self.bullish = t.direction is Direction.BULLISH
        self.sign = 1.0 if self.bullish else -1.0

    def trade(self) -> Trade:
        return Trade(
            self.direction,
            self.entry,
            self.stop,
            self.targets,
            self.created_at,
            self.expires_at,
            self.max_hold_ms,
            self.status,
            self.outcome,
            self.triggered_at,
            self.closed_at,
            self.targets_hit,
            self.r_multiple,
            self.tracked_through,
        )

    @property
    def is_open(self) -> bool:
        return self.status is SignalStatus.PENDING or self.status is SignalStatus.TRIGGERED

    def first_open(self) -> int:
        """Open time of the first candle still to fold (earlier ones are ignored)."""
        return max(self.created_at, (self.tracked_through or self.created_at - 1) + 1)

    def candles(
        self, candles: Candles, start: int, step_ms: int, finer: FinerCandles | None
    ) -> None:
        """Fold ``candles[start:]`` until the trade closes."""
        # Most trades end within a few candles: convert the columns a block at a time.
        for begin in range(start, len(candles), _BLOCK):
            block = slice(begin, begin + _BLOCK)
            rows = zip(
                candles.open_time[block].tolist(),
                candles.high[block].tolist(),
                candles.low[block].tolist(),
                candles.close[block].tolist(),
                strict=True,
            )
            for open_time, high, low, close in rows:
                self.candle(open_time, open_time + step_ms, high, low, close, finer)
                if not self.is_open:
                    return

    def candle(
        self,
        open_time: int,
        close_time: int,
        high: float,
        low: float,
        close: float,
        finer: FinerCandles | None,
    ) -> None:
        """Fold one candle of an open trade."""
        # Signed space: "favourable" is upward for both directions.
        fav, adv = (high, low) if self.bullish else (-low, -high)
        if self.status is SignalStatus.PENDING:
            self._pending(open_time, close_time, fav, adv, close, finer)
        else:
            self._triggered(open_time, close_time, fav, adv, close, finer)

    def _pending(
        self,
        open_time: int,
        close_time: int,
        fav: float,
        adv: float,
        close: float,
        finer: FinerCandles | None,
    ) -> None:
        """A candle while the entry order rests: expiry, no fill, or the fill (and what
        follows)."""
        sign = self.sign
        if open_time >= self.expires_at:
            self.status = SignalStatus.EXPIRED
            self.outcome = SignalOutcome.UNFILLED
            self.closed_at = self.expires_at
            return
        if adv > sign * self.entry:
            self.tracked_through = open_time
            return
        if (
            fav >= sign * self.targets[0]
            and finer is not None
            and self._resolve(open_time, close_time, finer)
        ):
            return
        self.tracked_through = open_time
        self.status = SignalStatus.TRIGGERED
        self.triggered_at = close_time
        if adv <= sign * self.stop:
            self._close(close_time, self.stop)
            return
        self._timeout(close_time, close)

    def _triggered(
        self,
        open_time: int,
        close_time: int,
        fav: float,
        adv: float,
        close: float,
        finer: FinerCandles | None,
    ) -> None:
        """A candle of a filled trade: stop (break-even after the first target), targets,
        timeout."""
        sign = self.sign
        active_stop = self.stop if self.targets_hit == 0 else self.entry
        stop_hit = adv <= sign * active_stop
        new_hits = sum(1 for level in self.targets[self.targets_hit :] if fav >= sign * level)
        if (
            stop_hit
            and new_hits
            and finer is not None
            and self._resolve(open_time, close_time, finer)
        ):
            return
        self.tracked_through = open_time
        if stop_hit:
            self._close(close_time, active_stop)
            return
        if new_hits:
            self.targets_hit += new_hits
            if self.targets_hit == PARTS:
                self._close(close_time, self.targets[-1])
                return
        self._timeout(close_time, close)

    def _resolve(self, open_time: int, close_time: int, finer: FinerCandles) -> bool:
        """Fold the finer candles of the candle instead of it; False if there are none."""
        found = finer(open_time, close_time - open_time)
        if found is None or len(found[0]) == 0:
            return False
        inner, step = found
        self.tracked_through = open_time - 1
        start = int(np.searchsorted(inner.open_time, self.first_open(), side="left"))
        self.candles(inner, start, step, None)
        self.tracked_through = open_time
        return True

    def _r_at(self, price: float) -> float:
        return self.sign * (price - self.entry) / abs(self.entry - self.stop)

    def _close(self, when: int, exit_price: float) -> None:
        hits = self.targets_hit
        realised = sum(self._r_at(level) for level in self.targets[:hits]) / PARTS
        self.r_multiple = realised + (PARTS - hits) / PARTS * self._r_at(exit_price)
        self.outcome = _TARGET_OUTCOMES[hits - 1] if hits else SignalOutcome.STOP
        self.status = SignalStatus.CLOSED
        self.closed_at = when

    def _timeout(self, close_time: int, close: float) -> None:
        assert self.triggered_at is not None
        if close_time - self.triggered_at < self.max_hold_ms:
            return
        self._close(close_time, close)
        if self.targets_hit == 0:
            self.outcome = SignalOutcome.TIMEOUT
