"""Tunable parameters of the detectors and the lifecycle, with their documented defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cryptolens.domain.errors import ValidationError

ObZone = Literal["range", "body"]


@dataclass(frozen=True, slots=True)
class DetectionParams:
    """Every knob of the detection engine; the defaults are the ones documented in docs."""

    #: Wilder ATR period; ATR is the yardstick for every size and tolerance.
    atr_period: int = 14
    #: A swing high needs this many lower highs on its left ...
    swing_left: int = 5
    #: ... and this many not-higher highs on its right; it is confirmed when the last one closes.
    swing_right: int = 5
    #: Smallest Fair Value Gap kept, as a multiple of ATR at the third candle.
    fvg_min_size_atr: float = 0.1
    #: Order-block zone: the candle's full range (wick to wick) or only its body.
    ob_zone: ObZone = "range"
    #: How far back (in candles, counted from the breaking candle) the order block may sit.
    ob_max_leg: int = 10
    #: Two consecutive swing highs (lows) within this many ATR are equal highs (lows): a pool.
    equal_tolerance_atr: float = 0.1
    #: Candles in the average that volume is compared with.
    volume_lookback: int = 20

    def __post_init__(self) -> None:
        _positive_int("atr_period", self.atr_period)
        _positive_int("swing_left", self.swing_left)
        _positive_int("swing_right", self.swing_right)
        _positive_int("ob_max_leg", self.ob_max_leg)
        _positive_int("volume_lookback", self.volume_lookback)
        _non_negative("fvg_min_size_atr", self.fvg_min_size_atr)
        _non_negative("equal_tolerance_atr", self.equal_tolerance_atr)
        if self.ob_zone not in ("range", "body"):
            raise ValidationError(f"ob_zone must be 'range' or 'body', got {self.ob_zone!r}")

    @property
    def lookback(self) -> int:
        """Closed candles an incremental run must keep so tail decisions see all they need."""
        return max(
            self.swing_left + self.swing_right,
            2,
            self.ob_max_leg,
            self.volume_lookback + 1,
        )


@dataclass(frozen=True, slots=True)
class LifecycleParams:
    """Knobs of the zone lifecycle."""

    #: When set, a zone also expires once price trades this many ATR (at formation) beyond its
    #: near edge, moving away from the zone; None keeps only the per-timeframe time expiry.
    expiry_atr_distance: float | None = None

    def __post_init__(self) -> None:
        if self.expiry_atr_distance is not None:
            _non_negative("expiry_atr_distance", self.expiry_atr_distance)


def _positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be a positive integer, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValidationError(f"{name} must be a non-negative number, got {value!r}")
    if value == float("inf"):
        raise ValidationError(f"{name} must be finite, got {value!r}")


DEFAULT_PARAMS = DetectionParams()
DEFAULT_LIFECYCLE = LifecycleParams()
