"""Signals: confluence of zones across timeframes, trade levels and tracked outcomes (pure)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptolens.signals.clusters import Events, zone_events
    from cryptolens.signals.confluence import (
        OPEN_END,
        SignalDraft,
        Steps,
        ZoneBook,
        find_signals,
    )
    from cryptolens.signals.levels import Levels, signal_levels
    from cryptolens.signals.outcome import FinerCandles, Trade, track
    from cryptolens.signals.params import DEFAULT_SIGNAL_PARAMS, HIGHER_TIMEFRAMES, SignalParams

#: Where each public name lives. Loaded on first use: the settings import signals.params,
#: and every command would otherwise pay for pandas (through confluence and outcome).
_HOMES = {
    "Events": "clusters",
    "zone_events": "clusters",
    "OPEN_END": "confluence",
    "SignalDraft": "confluence",
    "Steps": "confluence",
    "ZoneBook": "confluence",
    "find_signals": "confluence",
    "Levels": "levels",
    "signal_levels": "levels",
    "FinerCandles": "outcome",
    "Trade": "outcome",
    "track": "outcome",
    "DEFAULT_SIGNAL_PARAMS": "params",
    "HIGHER_TIMEFRAMES": "params",
    "SignalParams": "params",
}

__all__ = [
    "DEFAULT_SIGNAL_PARAMS",
    "HIGHER_TIMEFRAMES",
    "OPEN_END",
    "Events",
    "FinerCandles",
    "Levels",
    "SignalDraft",
    "SignalParams",
    "Steps",
    "Trade",
    "ZoneBook",
    "find_signals",
    "signal_levels",
    "track",
    "zone_events",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
