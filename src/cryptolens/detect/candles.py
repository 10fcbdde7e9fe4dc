"""The one candle input every detector accepts, validated once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptolens.domain.errors import CandleTimeError, ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

COLUMNS = ("open_time", "open", "high", "low", "close", "volume")

#: 1973-03-03 in epoch milliseconds but the year 5138 in epoch seconds: no market candle is
#: older, so a smaller open time is seconds (or some other unit), never milliseconds.
MIN_EPOCH_MS = 100_000_000_000


class CandleColumns(Protocol):
    """Anything carrying the six candle columns as arrays (Candles, a simulator dataset...)."""

    @property
    def open_time(self) -> npt.NDArray[Any]: ...
    @property
    def open(self) -> npt.NDArray[Any]: ...
    @property
    def high(self) -> npt.NDArray[Any]: ...
    @property
    def low(self) -> npt.NDArray[Any]: ...
    @property
    def close(self) -> npt.NDArray[Any]: ...
    @property
    def volume(self) -> npt.NDArray[Any]: ...


def _readonly(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    # A read-only view protects the caller's array without paying for a copy.
    view = values.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, slots=True, eq=False)
class Candles:
    """Consecutive closed candles as read-only column arrays (open time in epoch ms)."""

    open_time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return int(self.open_time.shape[0])

    def __getitem__(self, key: slice) -> Candles:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("Candles only supports contiguous slices")
        # Slices of valid candles are valid, so validation is skipped on purpose.
        return Candles(
            self.open_time[key],
            self.open[key],
            self.high[key],
            self.low[key],
            self.close[key],
            self.volume[key],
        )

    @classmethod
    def from_arrays(
        cls,
        open_time: Any,
        open: Any,
        high: Any,
        low: Any,
        close: Any,
        volume: Any,
    ) -> Candles:
        """Validate six equally long columns and wrap them without copying where possible."""
        columns = {
            "open_time": open_time,
            "open": open,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
        }
        arrays: dict[str, npt.NDArray[Any]] = {}
        for name, values in columns.items():
            try:
                array = np.asarray(values)
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"column {name!r} is not array-like: {exc}") from None
            if array.ndim != 1:
                raise ValidationError(f"column {name!r} must be one-dimensional, got {array.ndim}D")
            arrays[name] = array
        lengths = {name: int(a.shape[0]) for name, a in arrays.items()}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{k}={v}" for k, v in lengths.items())
            raise ValidationError(f"candle columns differ in length: {detail}")
        times = _as_times(arrays["open_time"])
        prices = {name: _as_floats(name, arrays[name]) for name in COLUMNS[1:]}
        candles = cls(
            _readonly(times),
            _readonly(prices["open"]),
            _readonly(prices["high"]),
            _readonly(prices["low"]),
            _readonly(prices["close"]),
            _readonly(prices["volume"]),
        )
        _validate(candles)
        return candles

    @classmethod
    def empty(cls) -> Candles:
        no_floats = np.empty(0, dtype=np.float64)
        return cls(np.empty(0, dtype=np.int64), *(no_floats.copy() for _ in range(5)))

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[float]]) -> Candles:
        """Columns of already-valid ``[open_time, o, h, l, c, v]`` rows, in the given order."""
        if not rows:
            return cls.empty()
        values = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
        times = np.asarray([int(r[0]) for r in rows], dtype=np.int64)  # exact, not via float
        return cls(times, *(values[:, i].copy() for i in range(1, 6)))

    @classmethod
    def concat(cls, parts: Iterable[Candles]) -> Candles:
        """Join already-ordered, non-overlapping parts (e.g. pages) into one set of columns."""
        chunks = [part for part in parts if len(part)]
        if not chunks:
            return cls.empty()
        return cls(*(np.concatenate([getattr(c, name) for c in chunks]) for name in COLUMNS))

    def take(self, mask_or_index: npt.NDArray[np.bool_] | IntArray) -> Candles:
        """The candles selected by a boolean mask or an index array (a copy)."""
        return Candles(*(getattr(self, name)[mask_or_index] for name in COLUMNS))

    def to_rows(self) -> list[list[float]]:
        """Plain ``[open_time, o, h, l, c, v]`` rows (open_time as an int), e.g. for JSON."""
        columns = (self.open, self.high, self.low, self.close, self.volume)
        return [[int(t), *(float(col[i]) for col in columns)] for i, t in enumerate(self.open_time)]

    def same_as(self, other: Candles) -> bool:
        """Exact equality of every column (floats compared bit for bit, not approximately)."""
        return len(self) == len(other) and all(
            np.array_equal(getattr(self, name), getattr(other, name)) for name in COLUMNS
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Candles:
        """Validate a DataFrame of columns open_time, open, high, low, close, volume (copied).

        ``open_time`` may be integer epoch ms or datetimes (naive ones are taken as UTC); without
        an ``open_time`` column a DatetimeIndex is used instead.
        """
        times: Any = None
        if "open_time" in frame.columns:
            times = frame["open_time"]
        elif isinstance(frame.index, pd.DatetimeIndex):
            times = frame.index
        missing = [name for name in COLUMNS[1:] if name not in frame.columns]
        if times is None:
            missing.insert(0, "open_time")
        if missing:
            raise ValidationError(f"candle frame is missing columns: {', '.join(missing)}")
        return cls.from_arrays(
            _frame_times(times), *(frame[name].to_numpy(copy=True) for name in COLUMNS[1:])
        )

    def to_frame(self) -> pd.DataFrame:
        """The candles as a new DataFrame (a copy; handy for printing and tests)."""
        return pd.DataFrame({name: np.array(getattr(self, name)) for name in COLUMNS})


def as_candles(source: Any) -> Candles:
    """Accept Candles, a DataFrame, a mapping of columns, or any object with the six attributes."""
    if isinstance(source, Candles):
        return source
    if isinstance(source, pd.DataFrame):
        return Candles.from_frame(source)
    if isinstance(source, Mapping):
        missing = [name for name in COLUMNS if name not in source]
        if missing:
            raise ValidationError(f"candle mapping is missing keys: {', '.join(missing)}")
        return Candles.from_arrays(*(source[name] for name in COLUMNS))
    missing = [name for name in COLUMNS if not hasattr(source, name)]
    if missing:
        raise ValidationError(
            f"cannot read candles from {type(source).__name__}: missing {', '.join(missing)}"
        )
    return Candles.from_arrays(*(getattr(source, name) for name in COLUMNS))


def _frame_times(times: Any) -> npt.NDArray[Any]:
    """A frame's open times as int64 epoch ms or naive UTC datetime64 (handed to ``_as_times``)."""
    if pd.api.types.is_datetime64_any_dtype(times.dtype):
        index = pd.DatetimeIndex(times)
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        return index.as_unit("ms").to_numpy().view(np.int64).copy()
    if pd.api.types.is_integer_dtype(times.dtype):
        try:
            return np.array(times, dtype=np.int64)
        except (TypeError, ValueError) as exc:  # e.g. a nullable column holding NA
            raise ValidationError(f"open_time cannot be read as epoch ms: {exc}") from None
    return np.asarray(times)


def _as_times(values: npt.NDArray[Any]) -> IntArray:
    # Floats are refused, whole or not: a float column is a sign of lost precision or NaNs
    # upstream, and one rule for every entry point beats guessing.
    if values.dtype == np.int64:
        return values
    if values.size == 0:
        return np.empty(0, dtype=np.int64)
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[ms]").astype(np.int64)
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    raise ValidationError(
        f"open_time must be integer epoch milliseconds or datetimes, got dtype {values.dtype}"
    )


def _as_floats(name: str, values: npt.NDArray[Any]) -> FloatArray:
    if values.dtype == np.float64:
        return values
    if np.issubdtype(values.dtype, np.number) and not np.issubdtype(
        values.dtype, np.complexfloating
    ):
        return values.astype(np.float64)
    raise ValidationError(f"column {name!r} must be numeric, got dtype {values.dtype}")


def _first(mask: BoolArray) -> int:
    return int(np.flatnonzero(mask)[0])


def _validate(c: Candles) -> None:
    for name in COLUMNS[1:]:
        values: FloatArray = getattr(c, name)
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValidationError(f"column {name!r} has NaN or infinity at index {_first(bad)}")
    if len(c) > 1:
        steps = np.diff(c.open_time)
        bad = steps <= 0
        if bad.any():
            i = _first(bad) + 1
            if steps[i - 1] == 0:
                raise ValidationError(
                    f"duplicate open_time {int(c.open_time[i])} at indices {i - 1} and {i}"
                )
            raise ValidationError(
                f"open_time must be strictly increasing; index {i} ({int(c.open_time[i])}) "
                f"does not follow {int(c.open_time[i - 1])}"
            )
    checks: tuple[tuple[BoolArray, str], ...] = (
        (c.high < c.low, "high < low"),
        (c.open > c.high, "open > high"),
        (c.close > c.high, "close > high"),
        (c.open < c.low, "open < low"),
        (c.close < c.low, "close < low"),
        (c.volume < 0, "negative volume"),
        (c.low <= 0, "non-positive price"),
    )
    for bad, label in checks:
        if bad.any():
            raise ValidationError(f"invalid candle at index {_first(bad)}: {label}")


def holes_before(candles: Candles, tf_ms: int, after: int | None = None) -> IntArray:
    """Indices of the candles that follow a hole (missing candles) in ``candles``.

    ``after`` is the open time of the candle seen just before ``candles`` (None if none), so
    index 0 is listed when a hole separates it from that one. Open times must be epoch
    milliseconds spaced by whole multiples of ``tf_ms`` (a hole is legal, other spacing is not);
    raises CandleTimeError naming the first offending candle otherwise.
    """
    if len(candles) == 0:
        return np.empty(0, dtype=np.int64)
    times = candles.open_time
    if int(times.min()) < MIN_EPOCH_MS:
        i = _first(times < MIN_EPOCH_MS)
        raise CandleTimeError(
            f"open_time {int(times[i])} at index {i} is not epoch milliseconds "
            "(epoch seconds? multiply by 1000)"
        )
    previous = times[0] - tf_ms if after is None else np.int64(after)
    steps = np.diff(times, prepend=previous)
    # Most steps are exactly one candle; only the others need the (slower) modulo.
    holes = np.flatnonzero(steps != tf_ms)
    odd = holes[steps[holes] % tf_ms != 0]
    if odd.shape[0]:
        i = int(odd[0])
        raise CandleTimeError(
            f"candle at index {i} (open_time {int(times[i])}) opens {int(steps[i])} ms after "
            f"the one before; candles of this timeframe are {tf_ms} ms apart (holes of whole "
            "candles are allowed, other spacing is not)"
        )
    return holes.astype(np.int64)
