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

from cryptolens.detect.candles import Candles

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

OHLCV_FIELDS = ("open", "high", "low", "close", "volume")


def _frozen(values: npt.ArrayLike, dtype: type[np.generic]) -> npt.NDArray[np.generic]:
    array = np.array(values, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True, eq=False)
class Dataset:
    """Ascending candles of one fixed base step; gaps (missing candles) are allowed."""

    step_ms: int
    open_time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __post_init__(self) -> None:
        n = self.open_time.shape[0]
        if any(getattr(self, name).shape != (n,) for name in OHLCV_FIELDS):
            raise ValueError("every column of a dataset must have the same length")
        if self.step_ms <= 0:
            raise ValueError("step_ms must be positive")
        if n and (np.diff(self.open_time) <= 0).any():
            raise ValueError("open times must be strictly ascending")
        if n and (self.open_time % self.step_ms != 0).any():
            raise ValueError(f"open times must be multiples of the step ({self.step_ms} ms)")

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
        """Copy the columns (read-only); ``step_ms`` defaults to the smallest time difference."""
        times = _frozen(open_time, np.int64)
        if step_ms is None:
            if times.shape[0] < 2:
                raise ValueError("step_ms is required for fewer than two candles")
            step_ms = int(np.diff(times).min())
        return cls(
            step_ms,
            times,  # type: ignore[arg-type]
            *(_frozen(col, np.float64) for col in (open, high, low, close, volume)),  # type: ignore[arg-type]
        )

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
        frame = frame.sort_values("open_time")
        return cls.from_arrays(
            frame["open_time"].to_numpy(dtype=np.int64),
            *(frame[name].to_numpy(dtype=np.float64) for name in OHLCV_FIELDS),
            step_ms=step_ms,
        )

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
            column.setflags(write=False)
            columns[name] = column
        return Dataset(self.step_ms, self.open_time, **columns)

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
