"""Entry, stop and targets of a signal from the zone it trades."""

from __future__ import annotations

from dataclasses import dataclass

from cryptolens.domain.enums import Direction
from cryptolens.signals.params import SignalParams


@dataclass(frozen=True, slots=True)
class Levels:
    entry: float
    stop: float
    targets: tuple[float, float, float]
    #: Reward to the last target over the risk, from the prices themselves.
    risk_reward: float

    @property
    def risk(self) -> float:
        return abs(self.entry - self.stop)


def signal_levels(
    direction: Direction,
    *,
    zone_low: float,
    zone_high: float,
    price: float,
    atr: float,
    params: SignalParams,
) -> Levels:
    """Entry at the zone's near edge (or the price, if already inside), stop beyond the far
    edge by max(k x ATR, minimum fraction of entry), targets at the configured R multiples."""
    bullish = direction is Direction.BULLISH
    entry = min(price, zone_high) if bullish else max(price, zone_low)
    atr_buffer = params.stop_atr * atr if atr == atr else 0.0
    buffer = max(atr_buffer, params.stop_min_fraction * entry)
    stop = zone_low - buffer if bullish else zone_high + buffer
    risk = entry - stop if bullish else stop - entry
    sign = 1.0 if bullish else -1.0
    t1, t2, t3 = (entry + sign * r * risk for r in params.targets_r)
    return Levels(entry, stop, (t1, t2, t3), risk_reward=abs(t3 - entry) / risk)
