"""The knobs of signal generation and outcome tracking, with their documented defaults."""

from __future__ import annotations

from dataclasses import dataclass

from cryptolens.domain.errors import ValidationError

#: Timeframes that count as "higher" for the optional higher-timeframe requirement.
HIGHER_TIMEFRAMES: frozenset[str] = frozenset({"4h", "1d"})


@dataclass(frozen=True, slots=True)
class SignalParams:
    """Rules that turn open zones into signals, and how a signal's trade is followed."""

    #: Distinct timeframes with an aligned, actionable zone needed for a signal.
    min_confluence: int = 2
    #: Also require one of those timeframes to be 4h or 1d.
    require_higher_timeframe: bool = False
    #: No second signal for the same symbol and direction within this time (ms).
    cooldown_ms: int = 4 * 3_600_000
    #: A zone is actionable while price is inside it or at most this far (fraction of price)
    #: from its near edge, on the side price approaches it from.
    proximity: float = 0.01
    #: Stop buffer beyond the far edge: max(stop_atr x ATR, stop_min_fraction x entry).
    stop_atr: float = 1.0
    stop_min_fraction: float = 0.001
    #: Targets as multiples of the risk (entry to stop).
    targets_r: tuple[float, float, float] = (1.0, 2.0, 3.0)
    #: The entry order is cancelled if not reached within this time (ms) after the signal.
    entry_ttl_ms: int = 24 * 3_600_000
    #: A triggered trade still open after this time (ms) is closed at the market: timeout.
    max_hold_ms: int = 7 * 24 * 3_600_000
    #: Zones whose model probability of holding is below this do not count (0: off; a zone
    #: without a probability counts). See ``signals.quality_gate``.
    min_quality: float = 0.0

    def __post_init__(self) -> None:
        if self.min_confluence < 1:
            raise ValidationError("min_confluence must be at least 1")
        if self.cooldown_ms < 0 or self.entry_ttl_ms <= 0 or self.max_hold_ms <= 0:
            raise ValidationError("cooldown, entry TTL and maximum hold must be positive")
        if not 0 <= self.proximity < 1:
            raise ValidationError("proximity must be a fraction in [0, 1)")
        if self.stop_atr < 0 or self.stop_min_fraction <= 0:
            raise ValidationError("the stop buffer needs stop_atr >= 0 and stop_min_fraction > 0")
        if not 0 <= self.min_quality <= 1:
            raise ValidationError("min_quality must be a probability in [0, 1]")
        r = self.targets_r
        if len(r) != 3 or not 0 < r[0] < r[1] < r[2]:
            raise ValidationError("targets_r must be three increasing positive multiples")


DEFAULT_SIGNAL_PARAMS = SignalParams()
