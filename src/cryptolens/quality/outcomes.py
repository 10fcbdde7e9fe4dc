"""What happened to a zone after it formed: held, failed, or no verdict (the model's label).

The outcome is read on candles of the zone's own timeframe opening at or after ``formed_at``
and before its expiry (``formed_at + ZONE_EXPIRY[timeframe]``, the lifecycle's lifetime):

* untouched  price never enters [zone_low, zone_high]: no verdict (``held`` None, and
             ``touched_at`` None); such zones are counted apart, never labelled;
* held       after the first touch, price moves ``atr_mult`` x ATR (the zone's ATR at
             formation) away from the near edge in the zone's direction (bullish:
             high >= zone_high + k x ATR; bearish: low <= zone_low - k x ATR) before any
             candle CLOSES beyond the far edge (bullish: close < zone_low; bearish:
             close > zone_high);
* failed     that close beyond the far edge comes first.

The touching candle can fail the zone (its close comes after the touch) but cannot hold it:
its extreme away from the zone may have come before price dipped in, so only later candles
count for a hold. A candle that both reaches the hold level and closes beyond the far edge
is a failure (the conservative reading). Undecided at expiry or at the end of the data: no
verdict. ``touched_at`` and ``decided_at`` are candle OPEN times (epoch ms); the outcome is
known at the deciding candle's close, ``decided_at + timeframe``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cryptolens.detect import Candles, expiry_ms
from cryptolens.detect.candles import BoolArray, FloatArray, IntArray
from cryptolens.detect.rangequery import MaxTable
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError

#: Column value for "no such moment" and for "no verdict".
NEVER = np.iinfo(np.int64).min
HELD, FAILED, UNDECIDED = 1, 0, -1


class OutcomeZone(Protocol):
    """What the label needs of a zone (a ``ZoneSpec``, or any object with these fields)."""

    @property
    def timeframe(self) -> str: ...
    @property
    def direction(self) -> Direction | str: ...
    @property
    def zone_low(self) -> float: ...
    @property
    def zone_high(self) -> float: ...
    @property
    def formed_at(self) -> int: ...
    @property
    def atr(self) -> float: ...


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """A zone as the outcome label reads it."""

    timeframe: str
    direction: Direction
    zone_low: float
    zone_high: float
    #: Close time of the candle that decided the zone (epoch ms): when it became known.
    formed_at: int
    #: ATR of the zone's timeframe at formation.
    atr: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """A zone's verdict: ``held`` True/False, or None (untouched or undecided)."""

    held: bool | None
    #: Open time of the first candle entering the zone (None: untouched).
    touched_at: int | None
    #: Open time of the candle that decided the verdict (None: no verdict).
    decided_at: int | None


@dataclass(frozen=True, slots=True, eq=False)
class OutcomeColumns:
    """Verdicts as columns: ``verdict`` HELD/FAILED/UNDECIDED, times NEVER when absent."""

    verdict: np.ndarray[tuple[int], np.dtype[np.int8]]
    touched_at: IntArray
    decided_at: IntArray

    def __len__(self) -> int:
        return int(self.verdict.shape[0])

    def to_outcomes(self) -> list[Outcome]:
        """One ``Outcome`` per row."""
        return [
            Outcome(
                held=None if v == UNDECIDED else v == HELD,
                touched_at=None if t == NEVER else t,
                decided_at=None if d == NEVER else d,
            )
            for v, t, d in zip(
                self.verdict.tolist(),
                self.touched_at.tolist(),
                self.decided_at.tolist(),
                strict=True,
            )
        ]


def zone_outcomes(
    zones: Sequence[OutcomeZone],
    candles_by_tf: Mapping[str, Candles],
    atr_mult: float = 1.0,
) -> list[Outcome]:
    """Each zone's verdict on the candles of its timeframe (rules in the module docstring).

    Raises ValidationError for a negative or non-finite ``atr_mult``, an unknown timeframe
    or a timeframe without candles."""
    n = len(zones)
    timeframes = np.array([z.timeframe for z in zones], dtype=object)
    bullish = np.array([z.direction == Direction.BULLISH for z in zones], dtype=bool)
    low = np.array([z.zone_low for z in zones], dtype=np.float64)
    high = np.array([z.zone_high for z in zones], dtype=np.float64)
    formed = np.array([z.formed_at for z in zones], dtype=np.int64)
    atr = np.array([z.atr for z in zones], dtype=np.float64)
    verdict = np.full(n, UNDECIDED, dtype=np.int8)
    touched = np.full(n, NEVER, dtype=np.int64)
    decided = np.full(n, NEVER, dtype=np.int64)
    for tf in sorted(set(timeframes.tolist())):
        if tf not in candles_by_tf:
            raise ValidationError(f"no candles for timeframe {tf!r}")
        rows = np.flatnonzero(timeframes == tf)
        got = outcome_columns(
            candles_by_tf[tf],
            tf,
            bullish=bullish[rows],
            zone_low=low[rows],
            zone_high=high[rows],
            formed_at=formed[rows],
            atr=atr[rows],
            atr_mult=atr_mult,
        )
        verdict[rows], touched[rows], decided[rows] = got.verdict, got.touched_at, got.decided_at
    return OutcomeColumns(verdict, touched, decided).to_outcomes()


def outcome_columns(
    candles: Candles,
    timeframe: str,
    *,
    bullish: BoolArray,
    zone_low: FloatArray,
    zone_high: FloatArray,
    formed_at: IntArray,
    atr: FloatArray,
    atr_mult: float = 1.0,
) -> OutcomeColumns:
    """Verdicts of many zones of one timeframe at once (vectorised over zones)."""
    if not (np.isfinite(atr_mult) and atr_mult >= 0):
        raise ValidationError(f"atr_mult must be a non-negative number, got {atr_mult!r}")
    expiry = np.int64(expiry_ms(timeframe))
    n = int(bullish.shape[0])
    verdict = np.full(n, UNDECIDED, dtype=np.int8)
    touched = np.full(n, NEVER, dtype=np.int64)
    decided = np.full(n, NEVER, dtype=np.int64)
    if n == 0 or len(candles) == 0:
        return OutcomeColumns(verdict, touched, decided)
    times = candles.open_time
    begin = np.searchsorted(times, formed_at, side="left").astype(np.int64)
    stop = np.searchsorted(times, formed_at + expiry, side="left").astype(np.int64)
    span = int((stop - begin).max(initial=0))
    if span == 0:
        return OutcomeColumns(verdict, touched, decided)
    for side in (True, False):
        rows = np.flatnonzero(bullish == side)
        if rows.shape[0] == 0:
            continue
        # Signed space: "into the zone" and "away from it" are both upward, so one rule serves.
        sign = -1.0 if side else 1.0
        into = sign * (candles.low if side else candles.high)
        away = -sign * (candles.high if side else candles.low)
        close = sign * candles.close
        near = sign * (zone_high[rows] if side else zone_low[rows])
        far = sign * (zone_low[rows] if side else zone_high[rows])
        goal = -near + atr_mult * atr[rows]
        b, s = begin[rows], stop[rows]
        touch = MaxTable(into, span).first_reaching(b, s, near, strict=False)
        is_touched = touch < s
        fail = MaxTable(close, span).first_reaching(touch, s, far, strict=True)
        hold = MaxTable(away, span).first_reaching(np.minimum(touch + 1, s), s, goal, strict=False)
        failed = is_touched & (fail < s) & (fail <= hold)
        held = is_touched & (hold < s) & ~failed
        at = np.where(failed, fail, hold)
        verdict[rows[failed]] = FAILED
        verdict[rows[held]] = HELD
        touched[rows[is_touched]] = times[touch[is_touched]]
        done = failed | held
        decided[rows[done]] = times[at[done]]
    return OutcomeColumns(verdict, touched, decided)
