"""Zone lifecycle as a pure fold: (zone states, newer candles) -> zone states.

Only candles opening at or after ``formed_at`` and before ``expires_at`` count, each once:
a state remembers the open time of the last candle it consumed, so advancing with candles
in two pieces gives exactly the state of advancing once with all of them.

Per counted candle, for a bullish zone (price comes down into it; bearish mirrors):

* touched     first candle whose low reaches the near edge (low <= zone_high);
* filled      first candle whose low reaches the far edge (low <= zone_low) and closes
              back at or above it: the zone was traded through;
* invalidated that same first far-edge candle, but closing beyond it (close < zone_low);
* expired     the lifetime ZONE_EXPIRY[timeframe] after formed_at ran out while still open,
              or (optional) a high reached zone_high + k x ATR first: price left the zone.

Filled, invalidated and expired are final. Event times are the close of the candle in
which the event happened (the first moment closed candles show it); time expiry is
``expires_at`` itself. fill_fraction is the deepest wick into the zone, 0..1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from cryptolens.detect.candles import BoolArray, Candles, FloatArray, IntArray, as_candles
from cryptolens.detect.params import DEFAULT_LIFECYCLE, LifecycleParams
from cryptolens.detect.rangequery import MaxTable
from cryptolens.detect.zones import Detections, Zone
from cryptolens.domain.enums import Direction, PatternStatus
from cryptolens.domain.timeframes import ZONE_EXPIRY, timeframe_ms

NONE = np.iinfo(np.int64).min


def expiry_ms(timeframe: str) -> int:
    """Lifetime of a zone on ``timeframe`` in milliseconds (from ZONE_EXPIRY)."""
    timeframe_ms(timeframe)
    return int(ZONE_EXPIRY[timeframe].total_seconds() * 1000)


@dataclass(frozen=True, slots=True)
class ZoneState:
    """Where one zone is in its life; store it, then advance it with newer candles."""

    direction: Direction
    zone_low: float
    zone_high: float
    formed_at: int
    expires_at: int
    #: Price whose reach expires the zone early (ATR-based expiry), or None.
    away_level: float | None = None
    touched_at: int | None = None
    filled_at: int | None = None
    invalidated_at: int | None = None
    expired_at: int | None = None
    #: Deepest price reached into the zone (lowest low if bullish, highest high if bearish).
    extreme: float | None = None
    #: Open time of the last candle consumed, so no candle is ever counted twice.
    last_open_time: int | None = None

    @property
    def status(self) -> PatternStatus:
        """The current status; filled, invalidated and expired are final."""
        if self.invalidated_at is not None:
            return PatternStatus.INVALIDATED
        if self.filled_at is not None:
            return PatternStatus.FILLED
        if self.expired_at is not None:
            return PatternStatus.EXPIRED
        if self.touched_at is not None:
            return PatternStatus.TOUCHED
        return PatternStatus.ACTIVE

    @property
    def fill_fraction(self) -> float:
        """How deep into the zone price has reached: 0 untouched .. 1 traded through."""
        if self.extreme is None:
            return 0.0
        height = self.zone_high - self.zone_low
        bullish = self.direction is Direction.BULLISH
        depth = self.zone_high - self.extreme if bullish else self.extreme - self.zone_low
        if height <= 0:
            return 1.0 if depth >= 0 else 0.0
        return min(1.0, max(0.0, depth / height))

    @classmethod
    def open(
        cls, zone: Zone, timeframe: str, params: LifecycleParams = DEFAULT_LIFECYCLE
    ) -> ZoneState:
        """The state of a zone the moment it becomes known."""
        away = None
        if params.expiry_atr_distance is not None:
            reach = params.expiry_atr_distance * zone.atr
            bullish = zone.direction is Direction.BULLISH
            away = zone.zone_high + reach if bullish else zone.zone_low - reach
        return cls(
            direction=zone.direction,
            zone_low=zone.zone_low,
            zone_high=zone.zone_high,
            formed_at=zone.formed_at,
            expires_at=zone.formed_at + expiry_ms(timeframe),
            away_level=away,
        )


@dataclass(frozen=True, slots=True, eq=False)
class LifecycleColumns:
    """Many zone states as parallel columns (times use ``NONE`` for 'not yet')."""

    bullish: BoolArray
    zone_low: FloatArray
    zone_high: FloatArray
    formed_at: IntArray
    expires_at: IntArray
    away_level: FloatArray
    touched_at: IntArray
    filled_at: IntArray
    invalidated_at: IntArray
    expired_at: IntArray
    extreme: FloatArray
    last_open_time: IntArray

    def __len__(self) -> int:
        return int(self.bullish.shape[0])

    @classmethod
    def open(
        cls, zones: Detections, timeframe: str, params: LifecycleParams = DEFAULT_LIFECYCLE
    ) -> LifecycleColumns:
        """Fresh states for a batch of detections (same rules as ``ZoneState.open``)."""
        n = len(zones)
        away = np.full(n, np.nan)
        if params.expiry_atr_distance is not None:
            reach = params.expiry_atr_distance * zones.atr
            away = np.where(zones.bullish, zones.zone_high + reach, zones.zone_low - reach)
        never = np.full(n, NONE, dtype=np.int64)
        return cls(
            bullish=zones.bullish.copy(),
            zone_low=zones.zone_low.copy(),
            zone_high=zones.zone_high.copy(),
            formed_at=zones.formed_at.copy(),
            expires_at=zones.formed_at + np.int64(expiry_ms(timeframe)),
            away_level=away,
            touched_at=never,
            filled_at=never.copy(),
            invalidated_at=never.copy(),
            expired_at=never.copy(),
            extreme=np.full(n, np.nan),
            last_open_time=never.copy(),
        )

    @classmethod
    def from_states(cls, states: Sequence[ZoneState]) -> LifecycleColumns:
        """Columns from individual states."""

        def times(name: str) -> IntArray:
            return np.array([_t(getattr(s, name)) for s in states], dtype=np.int64)

        def floats(name: str) -> FloatArray:
            values = [getattr(s, name) for s in states]
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        return cls(
            bullish=np.array([s.direction is Direction.BULLISH for s in states], dtype=bool),
            zone_low=floats("zone_low"),
            zone_high=floats("zone_high"),
            formed_at=times("formed_at"),
            expires_at=times("expires_at"),
            away_level=floats("away_level"),
            touched_at=times("touched_at"),
            filled_at=times("filled_at"),
            invalidated_at=times("invalidated_at"),
            expired_at=times("expired_at"),
            extreme=floats("extreme"),
            last_open_time=times("last_open_time"),
        )

    def to_states(self) -> list[ZoneState]:
        """Individual frozen states."""
        cols = {f.name: getattr(self, f.name).tolist() for f in fields(self)}
        out = []
        for i in range(len(self)):
            out.append(
                ZoneState(
                    direction=Direction.BULLISH if cols["bullish"][i] else Direction.BEARISH,
                    zone_low=cols["zone_low"][i],
                    zone_high=cols["zone_high"][i],
                    formed_at=cols["formed_at"][i],
                    expires_at=cols["expires_at"][i],
                    away_level=_f(cols["away_level"][i]),
                    touched_at=_opt(cols["touched_at"][i]),
                    filled_at=_opt(cols["filled_at"][i]),
                    invalidated_at=_opt(cols["invalidated_at"][i]),
                    expired_at=_opt(cols["expired_at"][i]),
                    extreme=_f(cols["extreme"][i]),
                    last_open_time=_opt(cols["last_open_time"][i]),
                )
            )
        return out

    @property
    def status(self) -> list[PatternStatus]:
        """Status of every row."""
        return [s.status for s in self.to_states()]

    @property
    def fill_fraction(self) -> FloatArray:
        """Fill fraction of every row (same rule as ``ZoneState.fill_fraction``)."""
        height = self.zone_high - self.zone_low
        depth = np.where(self.bullish, self.zone_high - self.extreme, self.extreme - self.zone_low)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.clip(depth / height, 0.0, 1.0)
        frac = np.where(height > 0, frac, np.where(depth >= 0, 1.0, 0.0))
        return np.where(np.isnan(self.extreme), 0.0, frac)

    def is_open(self) -> BoolArray:
        """Rows that are neither filled, invalidated nor expired."""
        done = (self.filled_at != NONE) | (self.invalidated_at != NONE) | (self.expired_at != NONE)
        keep: BoolArray = ~done
        return keep


def _t(value: int | None) -> int:
    return NONE if value is None else int(value)


def _opt(value: int) -> int | None:
    return None if value == NONE else int(value)


def _f(value: float) -> float | None:
    return None if value != value else float(value)


def advance_columns(cols: LifecycleColumns, candles: Candles, tf_ms: int) -> LifecycleColumns:
    """Fold newer candles into many zone states at once (vectorised over zones)."""
    out = {f.name: getattr(cols, f.name).copy() for f in fields(cols)}
    n = len(candles)
    if n == 0 or len(cols) == 0:
        return LifecycleColumns(**out)
    times = candles.open_time
    live = np.flatnonzero(cols.is_open())
    first_time = np.maximum(cols.formed_at[live], cols.last_open_time[live] + 1)
    begin = _first_at_or_after(times, first_time)
    stop = _first_at_or_after(times, cols.expires_at[live])
    stop = np.maximum(stop, begin)
    span = int((stop - begin).max(initial=0))
    for bullish in (True, False):
        rows = live[cols.bullish[live] == bullish]
        pick = cols.bullish[live] == bullish
        if rows.shape[0] and span:
            _advance_side(out, rows, begin[pick], stop[pick], candles, tf_ms, bullish, span)
    # Time expiry: the candles reach the end of the zone's life while it is still open.
    reached = times[-1] + np.int64(tf_ms)
    result = LifecycleColumns(**out)
    expire = result.is_open() & (result.expires_at <= reached)
    out["expired_at"] = np.where(expire, result.expires_at, result.expired_at)
    return LifecycleColumns(**out)


def _first_at_or_after(times: IntArray, moments: IntArray) -> IntArray:
    """Index of the first candle opening at or after each moment (len(times) if none)."""
    n = times.shape[0]
    step = int(times[1] - times[0]) if n > 1 else 0
    if step > 0 and int(times[-1] - times[0]) == step * (n - 1):
        # Evenly spaced open times (the usual case): arithmetic instead of a binary search.
        ahead = np.clip(moments - times[0], 0, None)
        index: IntArray = np.minimum(-(-ahead // step), n).astype(np.int64)
        return index
    found: IntArray = np.searchsorted(times, moments, side="left").astype(np.int64)
    return found


def _advance_side(
    out: dict[str, Any],
    rows: IntArray,
    begin: IntArray,
    stop: IntArray,
    candles: Candles,
    tf_ms: int,
    bullish: bool,
    span: int,
) -> None:
    # Signed space: "into the zone" is upward for both sides, so one set of rules serves.
    sign = -1.0 if bullish else 1.0
    into = sign * (candles.low if bullish else candles.high)
    away = -sign * (candles.high if bullish else candles.low)
    close = sign * candles.close
    near = sign * np.where(bullish, out["zone_high"][rows], out["zone_low"][rows])
    far = sign * np.where(bullish, out["zone_low"][rows], out["zone_high"][rows])
    into_table = MaxTable(into, span)
    touch = into_table.first_reaching(begin, stop, near, strict=False)
    # The far edge lies beyond the near one, so it cannot be reached before the touch.
    edge = into_table.first_reaching(touch, stop, far, strict=False)
    away_level = -sign * out["away_level"][rows]
    has_away = ~np.isnan(away_level)
    left = stop.copy()
    if has_away.any():
        away_table = MaxTable(away, span)
        got = away_table.first_reaching(
            begin, stop, np.where(has_away, away_level, np.inf), strict=False
        )
        left = np.where(has_away, got, stop)
    close_time = candles.open_time + np.int64(tf_ms)
    ends = edge < stop
    by_edge = ends & (edge <= left)
    by_away = (left < stop) & ~by_edge
    last = np.where(by_edge, edge, np.where(by_away, left, stop - 1))
    # Touches after the zone was left (away expiry) do not count.
    touched = (touch < stop) & (touch <= last)
    first_touch = out["touched_at"][rows] == NONE
    set_touch = touched & first_touch
    out["touched_at"][rows[set_touch]] = close_time[touch[set_touch]]
    beyond = by_edge & (close[np.minimum(edge, len(candles) - 1)] > far)
    out["invalidated_at"][rows[beyond]] = close_time[edge[beyond]]
    filled = by_edge & ~beyond
    out["filled_at"][rows[filled]] = close_time[edge[filled]]
    out["expired_at"][rows[by_away]] = close_time[left[by_away]]
    counted = last >= begin
    deepest = into_table.range_max(begin[counted], last[counted] + 1)
    prev = sign * out["extreme"][rows[counted]]
    out["extreme"][rows[counted]] = sign * np.fmax(prev, deepest)
    out["last_open_time"][rows[counted]] = candles.open_time[last[counted]]


def advance_zones(states: Iterable[ZoneState], candles: Candles, timeframe: str) -> list[ZoneState]:
    """Advance stored zone states with newer closed candles (state in, state out)."""
    state_list = list(states)
    cols = LifecycleColumns.from_states(state_list)
    return advance_columns(cols, as_candles(candles), timeframe_ms(timeframe)).to_states()


def advance_zone(state: ZoneState, candles: Candles, timeframe: str) -> ZoneState:
    """Advance one zone state with newer closed candles."""
    return advance_zones([state], candles, timeframe)[0]
