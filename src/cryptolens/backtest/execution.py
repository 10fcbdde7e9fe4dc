"""How signals become trades: fees, slippage, position sizing, exits and position limits.

Order types follow the live trade plan: the entry and the targets are resting limit orders
(maker fee, no slippage); the stop, the timeout exit and the close of a trade still open when
the data ends are market orders (taker fee, and slippage against the trade).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from cryptolens.domain.errors import ValidationError


class SlippageMode(StrEnum):
    #: A fixed number of basis points of the fill price.
    BPS = "bps"
    #: A fraction of the ATR at the signal.
    ATR = "atr"


class SizingMode(StrEnum):
    #: Risk a fixed percentage of equity between the entry and the stop.
    RISK = "risk"
    #: Trade a fixed quantity of the base asset.
    QUANTITY = "quantity"


@dataclass(frozen=True, slots=True)
class ExecutionModel:
    """Costs, sizing and trade management of a backtest; defaults mirror live outcome tracking
    (thirds at the targets, break-even after the first) with a 10 bps taker fee."""

    initial_equity: float = 10_000.0
    maker_fee_bps: float = 2.0
    taker_fee_bps: float = 10.0
    slippage: SlippageMode = SlippageMode.BPS
    #: Basis points (``bps`` mode) or a fraction of ATR (``atr`` mode).
    slippage_value: float = 0.0
    sizing: SizingMode = SizingMode.RISK
    #: Percent of equity risked per trade (``risk`` mode).
    risk_pct: float = 1.0
    #: Base-asset quantity per trade (``quantity`` mode).
    quantity: float = 1.0
    max_positions_per_symbol: int = 1
    max_positions: int = 10
    #: Fractions of the position closed at TP1 and TP2; the remainder closes at TP3.
    exit_fractions: tuple[float, float] = (1 / 3, 1 / 3)
    #: Move the stop to the entry once TP1 is hit.
    break_even: bool = True

    def __post_init__(self) -> None:
        _positive("initial_equity", self.initial_equity)
        _non_negative("maker_fee_bps", self.maker_fee_bps)
        _non_negative("taker_fee_bps", self.taker_fee_bps)
        _non_negative("slippage_value", self.slippage_value)
        _member("slippage", self.slippage, SlippageMode)
        _member("sizing", self.sizing, SizingMode)
        _positive("risk_pct", self.risk_pct)
        if self.risk_pct > 100:
            raise ValidationError(f"risk_pct must be at most 100, got {self.risk_pct!r}")
        _positive("quantity", self.quantity)
        _count("max_positions_per_symbol", self.max_positions_per_symbol)
        _count("max_positions", self.max_positions)
        fractions = self.exit_fractions
        if not isinstance(fractions, tuple) or len(fractions) != 2:
            raise ValidationError("exit_fractions must be two fractions (TP1, TP2)")
        for fraction in fractions:
            _non_negative("exit_fractions", fraction)
        if sum(fractions) > 1 + 1e-12:
            raise ValidationError(f"exit_fractions must sum to at most 1, got {sum(fractions)!r}")
        if not isinstance(self.break_even, bool):
            raise ValidationError(f"break_even must be true or false, got {self.break_even!r}")

    @property
    def fractions(self) -> tuple[float, float, float]:
        """Fractions of the position closed at TP1, TP2 and TP3."""
        f1, f2 = self.exit_fractions
        return f1, f2, max(0.0, 1.0 - f1 - f2)

    def slip(self, *, atr: float, price: float) -> float:
        """Price distance a market order loses (always >= 0; NaN ATR slips nothing)."""
        if self.slippage is SlippageMode.BPS:
            return price * self.slippage_value / 10_000
        return self.slippage_value * atr if atr == atr else 0.0

    def fee(self, notional: float, *, maker: bool) -> float:
        """Fee on a fill of ``notional`` quote value."""
        bps = self.maker_fee_bps if maker else self.taker_fee_bps
        return abs(notional) * bps / 10_000

    def size(self, *, equity: float, entry: float, stop: float) -> float:
        """Quantity of a new position (0 when equity is gone)."""
        if self.sizing is SizingMode.QUANTITY:
            return self.quantity
        risk = abs(entry - stop)
        if equity <= 0 or risk <= 0:
            return 0.0
        return equity * self.risk_pct / 100 / risk


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(name: str, value: float) -> None:
    if not _is_number(value) or not value > 0:
        raise ValidationError(f"{name} must be a positive finite number, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not _is_number(value) or not value >= 0:
        raise ValidationError(f"{name} must be a non-negative finite number, got {value!r}")


def _count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be a positive integer, got {value!r}")


def _member(name: str, value: object, kind: type[StrEnum]) -> None:
    if not isinstance(value, kind):
        allowed = ", ".join(m.value for m in kind)
        raise ValidationError(f"{name} must be one of {allowed}, got {value!r}")


DEFAULT_EXECUTION = ExecutionModel()
