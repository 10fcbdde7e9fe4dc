"""One symbol's zones of every timeframe collected into the ``ZoneBook`` that confluence reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cryptolens.detect.lifecycle import ZoneState
from cryptolens.domain.enums import Direction
from cryptolens.signals.confluence import OPEN_END, ZoneBook

#: (timeframe, pattern type, direction, formed_at): how a zone is known across scans.
ZoneKey = tuple[str, str, str, int]


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

    keys: list[ZoneKey] = field(default_factory=list)
    _cols: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in _BOOK_COLUMNS}
    )

    def add(self, tf_index: int, key: ZoneKey, state: ZoneState, strength: float) -> None:
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
