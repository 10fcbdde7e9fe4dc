"""DetectorState to and from plain JSON-ready dicts, so a service can store it between runs."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np

from cryptolens.detect.atr import AtrState
from cryptolens.detect.candles import COLUMNS, Candles
from cryptolens.detect.engine import DetectorState, SideState
from cryptolens.detect.params import DetectionParams
from cryptolens.detect.structure import LastSwing
from cryptolens.detect.sweeps import IntactLevels
from cryptolens.domain.errors import ValidationError

FORMAT = 1


def _num(x: float) -> float | str:
    # JSON (and database JSON columns) have no NaN or infinity; spell them out.
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _float(x: float | str) -> float:
    return float(x)


def _side(side: SideState) -> dict[str, Any]:
    last = side.last_swing
    return {
        "last_swing": None
        if last is None
        else {
            "level": _num(last.level),
            "pivot": last.pivot,
            "broken": last.broken,
            "extreme_since": _num(last.extreme_since),
        },
        "intact": {
            "level": [_num(v) for v in side.intact.level],
            "pivot": list(side.intact.pivot),
            "pooled": list(side.intact.pooled),
        },
        "last_order_block": side.last_order_block,
    }


def _side_from(data: dict[str, Any]) -> SideState:
    last = data["last_swing"]
    intact = data["intact"]
    return SideState(
        last_swing=None
        if last is None
        else LastSwing(
            level=_float(last["level"]),
            pivot=int(last["pivot"]),
            broken=bool(last["broken"]),
            extreme_since=_float(last["extreme_since"]),
        ),
        intact=IntactLevels(
            level=tuple(_float(v) for v in intact["level"]),
            pivot=tuple(int(v) for v in intact["pivot"]),
            pooled=tuple(bool(v) for v in intact["pooled"]),
        ),
        last_order_block=int(data["last_order_block"]),
    )


def state_to_dict(state: DetectorState) -> dict[str, Any]:
    """A JSON-ready dict holding everything ``state_from_dict`` needs, floats exact."""
    assert state.atr is not None
    tail = state.tail
    return {
        "format": FORMAT,
        "timeframe": state.timeframe,
        "params": asdict(state.params),
        "seen": state.seen,
        "run_start": state.run_start,
        "tail": None if tail is None else {name: getattr(tail, name).tolist() for name in COLUMNS},
        "atr": {k: _num(v) if isinstance(v, float) else v for k, v in asdict(state.atr).items()},
        "highs": _side(state.highs),
        "lows": _side(state.lows),
        "last_break_bullish": state.last_break_bullish,
    }


def state_from_dict(data: dict[str, Any]) -> DetectorState:
    """Rebuild a DetectorState written by ``state_to_dict``."""
    if data.get("format") != FORMAT:
        raise ValidationError(f"unsupported detector state format {data.get('format')!r}")
    tail = data["tail"]
    atr = data["atr"]
    return DetectorState(
        timeframe=data["timeframe"],
        params=DetectionParams(**data["params"]),
        seen=int(data["seen"]),
        # States stored before holes split runs have none: their run began at the start.
        run_start=int(data.get("run_start", 0)),
        tail=None
        if tail is None
        else Candles.from_arrays(
            np.asarray(tail["open_time"], dtype=np.int64),
            *(np.asarray(tail[name], dtype=np.float64) for name in COLUMNS[1:]),
        ),
        atr=AtrState(
            period=int(atr["period"]),
            count=int(atr["count"]),
            tr_sum=_float(atr["tr_sum"]),
            atr=_float(atr["atr"]),
            prev_close=_float(atr["prev_close"]),
        ),
        highs=_side_from(data["highs"]),
        lows=_side_from(data["lows"]),
        last_break_bullish=data["last_break_bullish"],
    )
