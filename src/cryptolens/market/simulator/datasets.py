"""Base candle histories the simulator serves, one per symbol, and loaders for them.

A :class:`Dataset` is immutable: revising a candle builds a new one, which the server swaps
in under its lock, so a request being served always sees one consistent history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptolens.detect.candles import COLUMNS, Candles

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

OHLCV_FIELDS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True, eq=False)
class Dataset:
    """Ascending candles of one fixed base step; gaps (missing candles) are allowed.

    The columns are a validated :class:`Candles` (the one candle type); the dataset adds only
    its step, to which every open time must be aligned.
    """

    step_ms: int
    candles: Candles

    def __post_init__(self) -> None:
        if self.step_ms <= 0:
            raise ValueError("step_ms must be positive")
        if len(self.candles) and (self.candles.open_time % self.step_ms != 0).any():
            raise ValueError(f"open times must be multiples of the step ({self.step_ms} ms)")

    @property
    def open_time(self) -> IntArray:
        return self.candles.open_time

    @property
    def open(self) -> FloatArray:
        return self.candles.open

    @property
    def high(self) -> FloatArray:
        return self.candles.high

    @property
    def low(self) -> FloatArray:
        return self.candles.low

    @property
    def close(self) -> FloatArray:
        return self.candles.close

    @property
    def volume(self) -> FloatArray:
        return self.candles.volume

    @classmethod
    def from_arrays(
        cls,
        open_time: npt.ArrayLike,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
        *,
        step_ms: int | None = None,
    ) -> Dataset:
        """Copy and validate the columns; ``step_ms`` defaults to the smallest time difference."""
        columns = [np.array(col, copy=True) for col in (open_time, open, high, low, close, volume)]
        if columns[0].size == 0:
            columns[0] = columns[0].astype(np.int64)
        candles = Candles.from_arrays(*columns)
        if step_ms is None:
            if len(candles) < 2:
                raise ValueError("step_ms is required for fewer than two candles")
            step_ms = int(np.diff(candles.open_time).min())
        return cls(step_ms, candles)

    @classmethod
    def from_synthetic(cls, candles: Candles, *, step_ms: int | None = None) -> Dataset:
        return cls.from_arrays(
            candles.open_time,
            candles.open,
            candles.high,
            candles.low,
            candles.close,
            candles.volume,
            step_ms=step_ms,
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, step_ms: int | None = None) -> Dataset:
        """From a frame with columns open_time (epoch ms) and open/high/low/close/volume."""
        candles = Candles.from_frame(frame.sort_values("open_time"))
        return cls.from_arrays(*(getattr(candles, name) for name in COLUMNS), step_ms=step_ms)

    def __len__(self) -> int:
        return int(self.open_time.shape[0])

    @property
    def first_open_ms(self) -> int:
        return int(self.open_time[0]) if len(self) else 0

    @property
    def last_open_ms(self) -> int:
        return int(self.open_time[-1]) if len(self) else 0

    def index_of(self, open_time_ms: int) -> int:
        """Row index of the candle opening at ``open_time_ms``; KeyError if there is none."""
        i = int(np.searchsorted(self.open_time, open_time_ms))
        if i >= len(self) or int(self.open_time[i]) != open_time_ms:
            raise KeyError(f"no candle opens at {open_time_ms}")
        return i

    def revised(self, open_time_ms: int, changes: Mapping[str, float]) -> Dataset:
        """A copy with the candle at ``open_time_ms`` changed (the exchange revised it)."""
        unknown = set(changes) - set(OHLCV_FIELDS)
        if unknown:
            raise ValueError(f"unknown candle fields: {sorted(unknown)}")
        i = self.index_of(open_time_ms)
        columns: dict[str, FloatArray] = {}
        for name in OHLCV_FIELDS:
            column = np.array(getattr(self, name), copy=True)
            if name in changes:
                column[i] = float(changes[name])
            columns[name] = column
        # A revision is still a candle: the one validation applies (ValidationError on nonsense).
        return Dataset(self.step_ms, Candles.from_arrays(self.open_time, **columns))

    def row(self, i: int) -> tuple[int, float, float, float, float, float]:
        return (
            int(self.open_time[i]),
            float(self.open[i]),
            float(self.high[i]),
            float(self.low[i]),
            float(self.close[i]),
            float(self.volume[i]),
        )


def _read_table(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith(".parquet") or name.endswith(".pq"):
        # Needs a parquet engine (pyarrow or fastparquet), which CryptoLens does not require.
        return pd.read_parquet(path)
    return pd.read_csv(path)  # pandas decompresses .gz/.bz2/.zip/.xz from the suffix


def load_dataset(path: Path, *, step_ms: int | None = None) -> Dataset:
    """One symbol's candles from CSV (optionally compressed) or Parquet."""
    return Dataset.from_frame(_read_table(path), step_ms=step_ms)


def load_multi_symbol(path: Path, *, step_ms: int | None = None) -> dict[str, Dataset]:
    """Candles of several symbols from one table with a ``symbol`` column (e.g. "ETH/USD")."""
    frame = _read_table(path)
    return {
        str(symbol): Dataset.from_frame(group, step_ms=step_ms)
        for symbol, group in frame.groupby("symbol", sort=True)
    }
