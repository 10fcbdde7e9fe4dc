"""Detected zones: a columnar batch for speed and the frozen ``Zone`` the rest of the app uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from cryptolens.detect.candles import BoolArray, FloatArray, IntArray
from cryptolens.detect.window import Window
from cryptolens.domain.enums import Direction, PatternType

FVG_CODE, OB_CODE, SWEEP_CODE = 0, 1, 2
PATTERNS: tuple[PatternType, ...] = (
    PatternType.FVG,
    PatternType.ORDER_BLOCK,
    PatternType.LIQUIDITY_SWEEP,
)
#: Strength inputs, in the order they are reported; a pattern reports only those it uses.
INPUT_NAMES: tuple[str, ...] = (
    "size_atr",
    "displacement_atr",
    "volume_ratio",
    "choch",
    "levels_swept",
    "pooled",
    "rejection_atr",
)


@dataclass(frozen=True, slots=True)
class Zone:
    """One detected zone, with the candle that forms it and the moment it becomes known."""

    pattern_type: PatternType
    direction: Direction
    zone_low: float
    zone_high: float
    #: Candle that forms the zone (FVG: middle candle, OB: the order-block candle,
    #: sweep: the sweeping candle), as index in the stream and its open time (epoch ms).
    formed_index: int
    formed_open_time: int
    #: Close time (epoch ms) of the last candle the decision needed: open_time + timeframe.
    formed_at: int
    #: Stream index of that last candle.
    decided_index: int
    strength: float
    #: ATR at the deciding candle: the yardstick behind every *_atr input.
    atr: float
    #: Level behind the zone: the broken swing (OB) or the outermost swept level (sweep).
    level: float | None
    strength_inputs: tuple[tuple[str, float], ...]

    @property
    def inputs(self) -> dict[str, float]:
        """Strength inputs as a dict (for JSON columns)."""
        return dict(self.strength_inputs)

    @property
    def key(self) -> str:
        """Identity that stays the same across full and incremental runs."""
        return f"{self.pattern_type}:{self.direction}:{self.formed_open_time}:{self.formed_at}"


@dataclass(frozen=True, slots=True, eq=False)
class Detections:
    """Zones as parallel columns, sorted by (formed_at, pattern, bullish first, formed_index)."""

    pattern: npt.NDArray[np.int8]
    bullish: BoolArray
    zone_low: FloatArray
    zone_high: FloatArray
    formed_index: IntArray
    formed_open_time: IntArray
    decided_index: IntArray
    formed_at: IntArray
    strength: FloatArray
    atr: FloatArray
    level: FloatArray
    size_atr: FloatArray
    displacement_atr: FloatArray
    volume_ratio: FloatArray
    choch: FloatArray
    levels_swept: FloatArray
    pooled: FloatArray
    rejection_atr: FloatArray

    def __len__(self) -> int:
        return int(self.pattern.shape[0])

    @classmethod
    def empty(cls) -> Detections:
        """No zones."""
        columns: dict[str, Any] = {}
        for f in fields(cls):
            columns[f.name] = np.empty(0, dtype=_DTYPES.get(f.name, np.float64))
        return cls(**columns)

    @classmethod
    def build(
        cls,
        w: Window,
        *,
        code: int,
        bullish: BoolArray,
        low: FloatArray,
        high: FloatArray,
        formed: IntArray,
        decided: IntArray,
        strength: FloatArray,
        atr: FloatArray,
        level: FloatArray | None = None,
        **inputs: FloatArray,
    ) -> Detections:
        """Assemble one pattern's rows from window indices; absent inputs become NaN."""
        n = bullish.shape[0]
        nan = np.full(n, np.nan)
        unknown = set(inputs) - set(INPUT_NAMES)
        if unknown:
            raise TypeError(f"unknown strength inputs {sorted(unknown)}")
        cols = {name: np.asarray(inputs.get(name, nan), dtype=np.float64) for name in INPUT_NAMES}
        return cls(
            pattern=np.full(n, code, dtype=np.int8),
            bullish=bullish.astype(bool),
            zone_low=low.astype(np.float64),
            zone_high=high.astype(np.float64),
            formed_index=w.base + formed.astype(np.int64),
            formed_open_time=w.candles.open_time[formed].astype(np.int64),
            decided_index=w.base + decided.astype(np.int64),
            formed_at=w.close_time(decided).astype(np.int64),
            strength=strength.astype(np.float64),
            atr=atr.astype(np.float64),
            level=nan if level is None else level.astype(np.float64),
            **cols,
        )

    @classmethod
    def concat(cls, parts: Sequence[Detections]) -> Detections:
        """All rows of ``parts`` in canonical order."""
        if not parts:
            return cls.empty()
        joined = cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )
        order = np.lexsort((joined.formed_index, ~joined.bullish, joined.pattern, joined.formed_at))
        return joined.take(order)

    def take(self, rows: IntArray | BoolArray) -> Detections:
        """The selected rows (an index array or a mask)."""
        return Detections(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def of(self, pattern: PatternType) -> Detections:
        """Only the rows of one pattern."""
        return self.take(self.pattern == PATTERNS.index(pattern))

    def to_zones(self) -> list[Zone]:
        """Materialise frozen ``Zone`` objects (pure Python; the columnar form is faster)."""
        inputs = np.column_stack([getattr(self, name) for name in INPUT_NAMES]).tolist()
        rows = zip(
            self.pattern.tolist(),
            self.bullish.tolist(),
            self.zone_low.tolist(),
            self.zone_high.tolist(),
            self.formed_index.tolist(),
            self.formed_open_time.tolist(),
            self.formed_at.tolist(),
            self.decided_index.tolist(),
            self.strength.tolist(),
            self.atr.tolist(),
            self.level.tolist(),
            inputs,
            strict=True,
        )
        return [
            Zone(
                pattern_type=PATTERNS[code],
                direction=Direction.BULLISH if bull else Direction.BEARISH,
                zone_low=low,
                zone_high=high,
                formed_index=fi,
                formed_open_time=fo,
                formed_at=fa,
                decided_index=di,
                strength=st,
                atr=at,
                level=None if lv != lv else lv,
                strength_inputs=tuple(
                    (name, value)
                    for name, value in zip(INPUT_NAMES, values, strict=True)
                    if value == value
                ),
            )
            for code, bull, low, high, fi, fo, fa, di, st, at, lv, values in rows
        ]


_DTYPES: dict[str, Any] = {
    "pattern": np.int8,
    "bullish": np.bool_,
    "formed_index": np.int64,
    "formed_open_time": np.int64,
    "decided_index": np.int64,
    "formed_at": np.int64,
}
