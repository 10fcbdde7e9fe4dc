"""Smart Money Concepts detection engine: pure functions from candles to zones and states."""

from cryptolens.detect.api import (
    Breaks,
    EqualLevels,
    Structure,
    detect,
    detect_all,
    detect_fvg,
    detect_incremental,
    detect_liquidity_sweeps,
    detect_order_blocks,
    lookback_needed,
    market_structure,
    run_lifecycle,
)
from cryptolens.detect.atr import AtrState, atr, true_range, wilder_atr
from cryptolens.detect.candles import Candles, as_candles
from cryptolens.detect.engine import DetectorState, initial_state
from cryptolens.detect.lifecycle import (
    LifecycleColumns,
    ZoneState,
    advance_columns,
    advance_zone,
    advance_zones,
    expiry_ms,
)
from cryptolens.detect.params import (
    DEFAULT_LIFECYCLE,
    DEFAULT_PARAMS,
    DetectionParams,
    LifecycleParams,
)
from cryptolens.detect.serialize import state_from_dict, state_to_dict
from cryptolens.detect.swings import Swings, find_swings
from cryptolens.detect.zones import Detections, Zone

__all__ = [
    "DEFAULT_LIFECYCLE",
    "DEFAULT_PARAMS",
    "AtrState",
    "Breaks",
    "Candles",
    "DetectionParams",
    "Detections",
    "DetectorState",
    "EqualLevels",
    "LifecycleColumns",
    "LifecycleParams",
    "Structure",
    "Swings",
    "Zone",
    "ZoneState",
    "advance_columns",
    "advance_zone",
    "advance_zones",
    "as_candles",
    "atr",
    "detect",
    "detect_all",
    "detect_fvg",
    "detect_incremental",
    "detect_liquidity_sweeps",
    "detect_order_blocks",
    "expiry_ms",
    "find_swings",
    "initial_state",
    "lookback_needed",
    "market_structure",
    "run_lifecycle",
    "state_from_dict",
    "state_to_dict",
    "true_range",
    "wilder_atr",
]
