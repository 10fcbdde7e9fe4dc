"""Zones as one columnar table across timeframes, with their labels: the model's data set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from cryptolens.detect import Candles, Detections
from cryptolens.detect.candles import BoolArray, FloatArray, IntArray
from cryptolens.detect.zones import INPUT_NAMES, PATTERNS
from cryptolens.domain.enums import Direction, PatternType
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.quality.outcomes import NEVER, UNDECIDED, outcome_columns

ObjectArray = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True, eq=False)
class ZoneTable:
    """Every zone of every timeframe as parallel columns (a zone's timeframe by row)."""

    timeframe: ObjectArray
    pattern: npt.NDArray[np.int8]
    bullish: BoolArray
    zone_low: FloatArray
    zone_high: FloatArray
    formed_index: IntArray
    decided_index: IntArray
    formed_at: IntArray
    strength: FloatArray
    atr: FloatArray
    #: Strength inputs by name (``detect.zones.INPUT_NAMES``), NaN where a pattern has none.
    inputs: Mapping[str, FloatArray]

    def __len__(self) -> int:
        return int(self.pattern.shape[0])

    @classmethod
    def from_detections(cls, parts: Sequence[tuple[str, Detections]]) -> ZoneTable:
        """The zones of each ``(timeframe, detections)`` pair, in that order."""
        cols: dict[str, list[Any]] = {f.name: [] for f in fields(cls) if f.name != "inputs"}
        inputs: dict[str, list[FloatArray]] = {name: [] for name in INPUT_NAMES}
        for tf, found in parts:
            cols["timeframe"].append(np.full(len(found), tf, dtype=object))
            for name in cols:
                if name != "timeframe":
                    cols[name].append(getattr(found, name))
            for name in INPUT_NAMES:
                inputs[name].append(getattr(found, name))
        empty = Detections.empty()

        def join(name: str, parts_: list[Any], like: Any) -> Any:
            return np.concatenate(parts_) if parts_ else like

        return cls(
            **{
                name: join(name, values, np.empty(0, dtype=object))
                if name == "timeframe"
                else join(name, values, getattr(empty, name))
                for name, values in cols.items()
            },
            inputs={name: join(name, v, np.empty(0)) for name, v in inputs.items()},
        )

    def take(self, rows: IntArray | BoolArray) -> ZoneTable:
        """The selected rows."""
        plain = {f.name: getattr(self, f.name)[rows] for f in fields(self) if f.name != "inputs"}
        return ZoneTable(**plain, inputs={k: v[rows] for k, v in self.inputs.items()})

    def pattern_type(self, row: int) -> PatternType:
        return PATTERNS[int(self.pattern[row])]

    def direction(self, row: int) -> Direction:
        return Direction.BULLISH if self.bullish[row] else Direction.BEARISH


@dataclass(frozen=True, slots=True, eq=False)
class Dataset:
    """Zones, their features at formation and their verdicts."""

    zones: ZoneTable
    features: FloatArray
    feature_names: tuple[str, ...]
    #: HELD, FAILED or UNDECIDED (``quality.outcomes``).
    verdict: npt.NDArray[np.int8]
    #: Close time of the deciding candle: when the verdict became known (NEVER: no verdict).
    known_at: IntArray

    def __len__(self) -> int:
        return len(self.zones)

    @classmethod
    def concat(cls, parts: Sequence[Dataset]) -> Dataset:
        """The rows of every part (e.g. one per symbol), in that order."""
        if not parts:
            raise ValueError("no data sets to join")
        zones = parts[0].zones
        plain = {
            f.name: np.concatenate([getattr(p.zones, f.name) for p in parts])
            for f in fields(ZoneTable)
            if f.name != "inputs"
        }
        inputs = {k: np.concatenate([p.zones.inputs[k] for p in parts]) for k in zones.inputs}
        return cls(
            ZoneTable(**plain, inputs=inputs),
            np.concatenate([p.features for p in parts]),
            parts[0].feature_names,
            np.concatenate([p.verdict for p in parts]),
            np.concatenate([p.known_at for p in parts]),
        )

    @property
    def labelled(self) -> BoolArray:
        """Rows with a verdict (held or failed)."""
        out: BoolArray = self.verdict != UNDECIDED
        return out


def label_zones(
    zones: ZoneTable, candles_by_tf: Mapping[str, Candles], atr_mult: float = 1.0
) -> tuple[npt.NDArray[np.int8], IntArray]:
    """Each zone's verdict and the moment it became known (close of the deciding candle)."""
    verdict = np.full(len(zones), UNDECIDED, dtype=np.int8)
    known = np.full(len(zones), NEVER, dtype=np.int64)
    for tf in sorted(set(zones.timeframe.tolist())):
        rows = np.flatnonzero(zones.timeframe == tf)
        got = outcome_columns(
            candles_by_tf[tf],
            tf,
            bullish=zones.bullish[rows],
            zone_low=zones.zone_low[rows],
            zone_high=zones.zone_high[rows],
            formed_at=zones.formed_at[rows],
            atr=zones.atr[rows],
            atr_mult=atr_mult,
        )
        verdict[rows] = got.verdict
        decided = got.decided_at
        known[rows] = np.where(decided == NEVER, NEVER, decided + np.int64(TIMEFRAME_MS[tf]))
    return verdict, known
