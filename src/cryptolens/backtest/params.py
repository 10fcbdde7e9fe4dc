"""Named backtest parameters: what a user may set on a run (CLI ``--param name=value``, the
page's form, the API's ``params`` object), with each one's type, range and the field it sets.

Signal parameters set ``signals.SignalParams`` (the very knobs of live signal generation);
execution parameters set ``backtest.execution.ExecutionModel``. Every name is checked, every
value parsed and range-checked, before any work: an unknown name or a bad value is a
ValidationError that names it and says what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cryptolens.backtest.execution import (
    DEFAULT_EXECUTION,
    ExecutionModel,
    SizingMode,
    SlippageMode,
)
from cryptolens.domain.errors import ValidationError
from cryptolens.signals import DEFAULT_SIGNAL_PARAMS, SignalParams

HOUR_MS = 3_600_000

Value = bool | int | float
Kind = Literal["int", "float", "bool"]
Target = Literal["signals", "execution"]


@dataclass(frozen=True, slots=True)
class Param:
    """One named parameter: its type and inclusive range, and what it sets."""

    name: str
    kind: Kind
    low: float
    high: float
    target: Target
    help: str

    def parse(self, raw: object) -> Value:
        """``raw`` (text from a form or the CLI, or a JSON value) as this parameter's type,
        range-checked; ValidationError naming the parameter otherwise."""
        value = _typed(self, raw)
        if self.kind != "bool" and not self.low <= float(value) <= self.high:
            raise ValidationError(
                f"parameter {self.name} must be between {_show(self.low)} and "
                f"{_show(self.high)}, got {_show(float(value))}"
            )
        return value


def _typed(param: Param, raw: object) -> Value:
    if param.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"true", "1", "yes", "on"}:
            return True
        if text in {"false", "0", "no", "off"}:
            return False
        raise ValidationError(f"parameter {param.name} must be true or false, got {raw!r}")
    if isinstance(raw, bool):
        raise ValidationError(f"parameter {param.name} must be a number, got {raw!r}")
    try:
        number = float(str(raw).strip()) if isinstance(raw, str) else float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(f"parameter {param.name} must be a number, got {raw!r}") from None
    if not math.isfinite(number):
        raise ValidationError(f"parameter {param.name} must be a finite number, got {raw!r}")
    if param.kind == "int":
        if number != int(number):
            raise ValidationError(f"parameter {param.name} must be a whole number, got {raw!r}")
        return int(number)
    return number


def _show(number: float) -> str:
    return f"{number:g}"


PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("min_confluence", "int", 1, 8, "signals", "timeframes that must agree"),
        Param("require_higher_timeframe", "bool", 0, 1, "signals", "one of them must be 4h or 1d"),
        Param("cooldown_hours", "float", 0, 720, "signals", "hours between same-side signals"),
        Param("proximity", "float", 0, 0.2, "signals", "how near a zone counts (fraction)"),
        Param("stop_atr", "float", 0, 10, "signals", "stop buffer beyond the zone, in ATR"),
        Param(
            "stop_min_fraction", "float", 0.0001, 0.1, "signals", "smallest stop buffer (fraction)"
        ),
        Param("tp1_r", "float", 0.1, 20, "signals", "first target, in R"),
        Param("tp2_r", "float", 0.1, 20, "signals", "second target, in R"),
        Param("tp3_r", "float", 0.1, 20, "signals", "third target, in R"),
        Param("entry_ttl_hours", "float", 1, 720, "signals", "hours the entry order waits"),
        Param("max_hold_hours", "float", 1, 8760, "signals", "hours before a timeout exit"),
        Param(
            "min_quality", "float", 0, 1, "signals", "zones' least P(hold), walk-forward (0 off)"
        ),
        Param("initial_equity", "float", 1, 1e12, "execution", "starting equity (quote)"),
        Param("maker_fee_bps", "float", 0, 500, "execution", "entry and target fee (bps)"),
        Param("taker_fee_bps", "float", 0, 500, "execution", "stop and timeout fee (bps)"),
        Param("slippage_bps", "float", 0, 500, "execution", "market-order slippage (bps)"),
        Param("slippage_atr", "float", 0, 5, "execution", "market-order slippage (x ATR)"),
        Param("risk_pct", "float", 0.01, 100, "execution", "equity risked per trade (%)"),
        Param("quantity", "float", 1e-9, 1e12, "execution", "fixed size instead of risk_pct"),
        Param("max_positions", "int", 1, 1000, "execution", "open positions overall"),
        Param("max_positions_per_symbol", "int", 1, 100, "execution", "open positions per symbol"),
        Param("tp1_fraction", "float", 0, 1, "execution", "share closed at TP1"),
        Param("tp2_fraction", "float", 0, 1, "execution", "share closed at TP2"),
        Param("break_even", "bool", 0, 1, "execution", "stop to entry after TP1"),
    )
}


def describe() -> str:
    """The parameters, one per line, for help texts and error messages."""
    return "\n".join(
        f"  {p.name} ({p.kind}"
        + ("" if p.kind == "bool" else f", {_show(p.low)}..{_show(p.high)}")
        + f"): {p.help}"
        for p in PARAMS.values()
    )


@dataclass(frozen=True, slots=True)
class RunParams:
    """What one backtest run trades with, and the named values that made it (for storage)."""

    signals: SignalParams
    execution: ExecutionModel
    given: Mapping[str, Value]


def parse_params(raw: Mapping[str, object]) -> dict[str, Value]:
    """Checked named values; ValidationError for an unknown name or a bad value."""
    unknown = sorted(set(raw) - set(PARAMS))
    if unknown:
        raise ValidationError(
            f"unknown backtest parameter {unknown[0]}; known: {', '.join(PARAMS)}"
        )
    values = {name: PARAMS[name].parse(value) for name, value in raw.items()}
    if "slippage_bps" in values and "slippage_atr" in values:
        raise ValidationError("give slippage_bps or slippage_atr, not both")
    return values


def parse_assignments(assignments: list[str]) -> dict[str, Value]:
    """``name=value`` texts (the CLI's ``--param``) as checked named values."""
    raw: dict[str, str] = {}
    for text in assignments:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"--param takes name=value, got {text!r}")
        if name.strip() in raw:
            raise ValidationError(f"parameter {name.strip()} is given twice")
        raw[name.strip()] = value
    return parse_params(raw)


def run_params(
    values: Mapping[str, Value],
    *,
    signals: SignalParams = DEFAULT_SIGNAL_PARAMS,
    execution: ExecutionModel = DEFAULT_EXECUTION,
) -> RunParams:
    """``signals`` and ``execution`` with the checked ``values`` applied; ValidationError
    when they do not fit together (targets not increasing, exit fractions over 1...)."""
    s = dict(values)
    signal_changes: dict[str, object] = {}
    for field in (
        "min_confluence",
        "require_higher_timeframe",
        "proximity",
        "stop_atr",
        "stop_min_fraction",
        "min_quality",
    ):
        if field in s:
            signal_changes[field] = s[field]
    for name, field in (
        ("cooldown_hours", "cooldown_ms"),
        ("entry_ttl_hours", "entry_ttl_ms"),
        ("max_hold_hours", "max_hold_ms"),
    ):
        if name in s:
            signal_changes[field] = round(float(s[name]) * HOUR_MS)
    if {"tp1_r", "tp2_r", "tp3_r"} & set(s):
        current = signals.targets_r
        signal_changes["targets_r"] = tuple(
            float(s.get(f"tp{i + 1}_r", current[i])) for i in range(3)
        )
    execution_changes: dict[str, object] = {}
    for field in (
        "initial_equity",
        "maker_fee_bps",
        "taker_fee_bps",
        "risk_pct",
        "quantity",
        "max_positions",
        "max_positions_per_symbol",
        "break_even",
    ):
        if field in s:
            execution_changes[field] = s[field]
    if "quantity" in s:
        execution_changes["sizing"] = SizingMode.QUANTITY
    if "slippage_bps" in s:
        execution_changes |= {"slippage": SlippageMode.BPS, "slippage_value": s["slippage_bps"]}
    if "slippage_atr" in s:
        execution_changes |= {"slippage": SlippageMode.ATR, "slippage_value": s["slippage_atr"]}
    if {"tp1_fraction", "tp2_fraction"} & set(s):
        f1, f2 = execution.exit_fractions
        execution_changes["exit_fractions"] = (
            float(s.get("tp1_fraction", f1)),
            float(s.get("tp2_fraction", f2)),
        )
    return RunParams(
        signals=dataclasses.replace(signals, **signal_changes),  # type: ignore[arg-type]
        execution=dataclasses.replace(execution, **execution_changes),  # type: ignore[arg-type]
        given=dict(values),
    )
