"""Bridges between stored rows and the pure engines: zone states, zone books, trades."""

from __future__ import annotations

from typing import Any

from cryptolens.db.patterns import OpenPattern
from cryptolens.db.signals import OpenSignal
from cryptolens.detect import Zone, ZoneState
from cryptolens.domain.enums import Direction, SignalStatus
from cryptolens.signals import SignalDraft, Trade
from cryptolens.signals.book import BookBuilder
from cryptolens.signals.outcome import draft_trade

__all__ = [
    "BookBuilder",
    "draft_trade",
    "lifecycle_values",
    "new_pattern_row",
    "outcome_values",
    "signal_row",
    "stored_trade",
    "stored_zone_state",
]


def stored_zone_state(row: OpenPattern, *, consumed_through: int | None) -> ZoneState:
    """The lifecycle state of a stored open zone, resuming after ``consumed_through``."""
    return ZoneState(
        direction=Direction(row.direction),
        zone_low=row.zone_low,
        zone_high=row.zone_high,
        formed_at=row.formed_at,
        expires_at=row.expires_at,
        touched_at=row.touched_at,
        extreme=row.extreme,
        last_open_time=consumed_through,
    )


def lifecycle_values(state: ZoneState) -> dict[str, Any]:
    """The stored lifecycle columns of a zone state."""
    return {
        "status": state.status.value,
        "fill_fraction": state.fill_fraction,
        "extreme": state.extreme,
        "touched_at": state.touched_at,
        "filled_at": state.filled_at,
        "invalidated_at": state.invalidated_at,
        "expired_at": state.expired_at,
    }


def new_pattern_row(
    symbol_id: int,
    timeframe: str,
    zone: Zone,
    state: ZoneState,
    quality: tuple[float | None, str | None] = (None, None),
) -> dict[str, Any]:
    """A new zone's row; ``quality`` is the model's P(held) and version (None: no model)."""
    return {
        "symbol_id": symbol_id,
        "timeframe": timeframe,
        "pattern_type": zone.pattern_type.value,
        "direction": zone.direction.value,
        "zone_low": zone.zone_low,
        "zone_high": zone.zone_high,
        "candle_time": zone.formed_open_time,
        "formed_at": zone.formed_at,
        "strength": zone.strength,
        "strength_inputs": zone.inputs,
        "expires_at": state.expires_at,
        "quality_probability": quality[0],
        "quality_model_version": quality[1],
        **lifecycle_values(state),
    }


def stored_trade(row: OpenSignal, *, entry_ttl_ms: int, max_hold_ms: int) -> Trade:
    return Trade(
        direction=Direction(row.direction),
        entry=row.entry,
        stop=row.stop,
        targets=(row.target_1, row.target_2, row.target_3),
        created_at=row.created_at,
        expires_at=row.expires_at if row.expires_at is not None else row.created_at + entry_ttl_ms,
        max_hold_ms=max_hold_ms,
        status=SignalStatus(row.status),
        triggered_at=row.triggered_at,
        targets_hit=row.targets_hit,
        tracked_through=row.tracked_through,
    )


def outcome_values(trade: Trade) -> dict[str, Any]:
    return {
        "status": trade.status.value,
        "outcome": trade.outcome.value if trade.outcome else None,
        "triggered_at": trade.triggered_at,
        "closed_at": trade.closed_at,
        "targets_hit": trade.targets_hit,
        "r_multiple": trade.r_multiple,
        "tracked_through": trade.tracked_through,
    }


def signal_row(draft: SignalDraft, trade: Trade) -> dict[str, Any]:
    lv = draft.levels
    return {
        "direction": draft.direction.value,
        "confluence": draft.confluence,
        "score": draft.score,
        "timeframes": ",".join(draft.timeframes),
        "entry": lv.entry,
        "stop": lv.stop,
        "target_1": lv.targets[0],
        "target_2": lv.targets[1],
        "target_3": lv.targets[2],
        "risk_reward": lv.risk_reward,
        "created_at": draft.created_at,
        "expires_at": trade.expires_at,
        "atr": draft.atr if draft.atr == draft.atr else None,
        **outcome_values(trade),
    }
