"""The candle contract: one validated input type, never mutated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptolens.detect import Candles, as_candles, detect
from cryptolens.domain.errors import ValidationError
from cryptolens.market.aggregate import aggregate_candles
from cryptolens.market.simulator.datasets import Dataset
from cryptolens.market.synthetic import synthetic_candles
from tests.builders.candles import HOUR, START


def _columns(n: int = 5) -> dict[str, np.ndarray]:
    times = START + np.arange(n, dtype=np.int64) * HOUR
    close = np.linspace(100, 104, n)
    return {
        "open_time": times,
        "open": close - 0.5,
        "high": close + 1.0,
        "low": close - 1.0,
        "close": close,
        "volume": np.full(n, 3.0),
    }


def test_a_dataframe_and_arrays_give_the_same_candles() -> None:
    cols = _columns()
    from_frame = Candles.from_frame(pd.DataFrame(cols))
    from_arrays = Candles.from_arrays(*cols.values())
    for name in cols:
        assert np.array_equal(getattr(from_frame, name), getattr(from_arrays, name))


def test_objects_with_column_attributes_are_accepted() -> None:
    synth = synthetic_candles(50)
    candles = as_candles(synth)
    assert len(candles) == 50
    assert np.array_equal(candles.close, synth.close)


def test_datetime_open_times_are_converted_to_epoch_milliseconds() -> None:
    cols = _columns()
    cols["open_time"] = pd.to_datetime(cols["open_time"], unit="ms").to_numpy()
    assert as_candles(cols).open_time[0] == START


@pytest.mark.parametrize(
    ("column", "index", "value", "message"),
    [
        ("close", 2, np.nan, "NaN"),
        ("high", 1, np.inf, "infinity"),
        ("high", 3, 90.0, "high < low"),
        ("open", 0, 200.0, "open > high"),
        ("close", 4, 10.0, "close < low"),
        ("volume", 1, -1.0, "negative volume"),
        ("open_time", 3, START, "strictly increasing"),
    ],
)
def test_invalid_candles_are_rejected_with_a_message_naming_the_problem(
    column: str, index: int, value: float, message: str
) -> None:
    cols = _columns()
    cols[column] = cols[column].copy()
    cols[column][index] = value
    with pytest.raises(ValidationError, match=message):
        as_candles(cols)


def test_columns_of_different_length_are_rejected() -> None:
    cols = _columns()
    cols["volume"] = cols["volume"][:-1]
    with pytest.raises(ValidationError, match="differ in length"):
        as_candles(cols)


def test_a_frame_missing_a_column_is_rejected_naming_it() -> None:
    frame = pd.DataFrame(_columns()).drop(columns=["volume"])
    with pytest.raises(ValidationError, match="volume"):
        as_candles(frame)


def test_detection_leaves_the_callers_arrays_untouched_and_writable() -> None:
    synth = synthetic_candles(2_000, seed=7)
    before = {name: getattr(synth, name).copy() for name in _columns()}
    detect(synth, "1m")
    for name, values in before.items():
        array = getattr(synth, name)
        assert np.array_equal(array, values)
        assert array.flags.writeable


def test_the_wrapped_columns_are_read_only() -> None:
    candles = as_candles(_columns())
    with pytest.raises(ValueError, match="read-only"):
        candles.close[0] = 1.0


def test_float_open_times_are_refused_whichever_way_candles_come_in() -> None:
    cols = {**_columns(), "open_time": _columns()["open_time"].astype(np.float64)}
    with pytest.raises(ValidationError, match="integer epoch milliseconds"):
        Candles.from_arrays(*cols.values())
    with pytest.raises(ValidationError, match="integer epoch milliseconds"):
        Candles.from_frame(pd.DataFrame(cols))
    with pytest.raises(ValidationError, match="integer epoch milliseconds"):
        aggregate_candles(as_candles(cols), base_timeframe="1h", target_timeframe="4h")
    with pytest.raises(ValidationError, match="integer epoch milliseconds"):
        Dataset.from_arrays(*cols.values(), step_ms=HOUR)


def test_the_simulator_dataset_refuses_what_candles_refuse() -> None:
    cols = _columns()
    cols["low"] = cols["high"] + 1.0
    with pytest.raises(ValidationError, match="high < low"):
        Dataset.from_arrays(*cols.values(), step_ms=HOUR)
    dataset = Dataset.from_arrays(*_columns().values(), step_ms=HOUR)
    assert isinstance(dataset.candles, Candles)
    with pytest.raises(ValidationError, match="high < low"):
        dataset.revised(int(dataset.open_time[0]), {"high": 1.0})


def test_aggregated_candles_are_candles_again() -> None:
    built = aggregate_candles(
        Candles.from_arrays(*_columns(8).values()), base_timeframe="1h", target_timeframe="4h"
    )
    assert isinstance(built.as_candles(), Candles)
    assert len(detect(built.as_candles(), "4h")) == 0
