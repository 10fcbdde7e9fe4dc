"""Bridges between stored rows and the pure engines: zone states, zone books, trades."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cryptolens.db.patterns import OpenPattern, PatternKey
from cryptolens.db.signals import OpenSignal
from cryptolens.detect import Zone, ZoneState
from cryptolens.domain.enums import Direction, SignalStatus
from cryptolens.signals import OPEN_END, SignalDraft, Trade, ZoneBook


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


def new_pattern_row(symbol_id: int, timeframe: str, zone: Zone, state: ZoneState) -> dict[str, Any]:
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
        **lifecycle_values(state),
    }


_BOOK_COLUMNS = (
    "ref",
    "tf_index",
    "bullish",
    "zone_low",
    "zone_high",
    "formed_at",
    "ends_at",
    "strength",
)


@dataclass
class BookBuilder:
    """Collects zones of every timeframe into one ``ZoneBook`` with stable references."""

    keys: list[PatternKey] = field(default_factory=list)
    _cols: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in _BOOK_COLUMNS}
    )

    def add(self, tf_index: int, key: PatternKey, state: ZoneState, strength: float) -> None:
        ends = [
            t
            for t in (state.filled_at, state.invalidated_at, state.expired_at, state.expires_at)
            if t is not None
        ]
        self._cols["ref"].append(len(self.keys))
        self._cols["tf_index"].append(tf_index)
        self._cols["bullish"].append(state.direction is Direction.BULLISH)
        self._cols["zone_low"].append(state.zone_low)
        self._cols["zone_high"].append(state.zone_high)
        self._cols["formed_at"].append(state.formed_at)
        self._cols["ends_at"].append(min(ends) if ends else OPEN_END)
        self._cols["strength"].append(strength)
        self.keys.append(key)

    def build(self) -> ZoneBook:
        c = self._cols
        return ZoneBook(
            ref=np.array(c["ref"], dtype=np.int64),
            tf_index=np.array(c["tf_index"], dtype=np.int64),
            bullish=np.array(c["bullish"], dtype=bool),
            zone_low=np.array(c["zone_low"], dtype=np.float64),
            zone_high=np.array(c["zone_high"], dtype=np.float64),
            formed_at=np.array(c["formed_at"], dtype=np.int64),
            ends_at=np.array(c["ends_at"], dtype=np.int64),
            strength=np.array(c["strength"], dtype=np.float64),
        )


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


def draft_trade(draft: SignalDraft, *, entry_ttl_ms: int, max_hold_ms: int) -> Trade:
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
