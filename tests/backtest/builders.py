"""Hand-built candles and plans for the backtest tests (hourly, long at 100 by default)."""

from __future__ import annotations

from dataclasses import replace

from cryptolens.backtest.fills import Plan
from cryptolens.backtest.replay import Replay, ReplayedSignal
from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction
from cryptolens.signals import Levels, SignalDraft, Trade
from tests.builders.candles import ranges as bars

__all__ = ["H", "M", "bars", "long_plan", "replay_of", "short_plan", "twenty_minutes"]

H = 3_600_000
M = 60_000


def long_plan(**changes: object) -> Plan:
    """Long at 100, stop 90, targets 110/120/130, signalled at t=0."""
    plan = Plan(
        direction=Direction.BULLISH,
        entry=100.0,
        stop=90.0,
        targets=(110.0, 120.0, 130.0),
        created_at=0,
        expires_at=24 * H,
        max_hold_ms=100 * H,
    )
    return replace(plan, **changes)  # type: ignore[arg-type]


def short_plan(**changes: object) -> Plan:
    """Short at 100, stop 110, targets 90/80/70, signalled at t=0."""
    return long_plan(direction=Direction.BEARISH, stop=110.0, targets=(90.0, 80.0, 70.0), **changes)


def replay_of(candles: Candles, *plans: Plan, atr: float = 4.0) -> Replay:
    """A replay whose signals are ``plans`` over hourly ``candles``."""
    signals = []
    for plan in plans:
        risk = abs(plan.entry - plan.stop)
        levels = Levels(
            plan.entry, plan.stop, plan.targets, abs(plan.targets[2] - plan.entry) / risk
        )
        draft = SignalDraft(
            created_at=plan.created_at,
            direction=plan.direction,
            timeframes=("1h", "4h"),
            score=0.5,
            price=plan.entry,
            atr=atr,
            levels=levels,
            entry_ref=0,
            zone_refs=(0,),
            confluence=2,
            clusters=((0,),),
        )
        trade = Trade(
            direction=plan.direction,
            entry=plan.entry,
            stop=plan.stop,
            targets=plan.targets,
            created_at=plan.created_at,
            expires_at=plan.expires_at,
            max_hold_ms=plan.max_hold_ms,
        )
        signals.append(ReplayedSignal(draft, (), trade))
    return Replay("1h", ("1h",), candles, {"1h": candles}, tuple(signals), 0)


def twenty_minutes(hours: Candles) -> Candles:
    """Three 20-minute candles per hour spanning its range, high first or low first."""
    rows: list[tuple[float, float]] = []
    for i, (high, low) in enumerate(zip(hours.high.tolist(), hours.low.tolist(), strict=True)):
        mid = (high + low) / 2
        rows += [(high, mid), (mid, low)] if i % 2 else [(mid, low), (high, mid)]
        rows.append((mid, mid))
    return bars(*rows, step=20 * M)
