"""Signals: confluence of zones across timeframes, trade levels and tracked outcomes (pure)."""

from cryptolens.signals.confluence import OPEN_END, SignalDraft, Steps, ZoneBook, find_signals
from cryptolens.signals.levels import Levels, signal_levels
from cryptolens.signals.outcome import FinerCandles, Trade, track
from cryptolens.signals.params import DEFAULT_SIGNAL_PARAMS, HIGHER_TIMEFRAMES, SignalParams

__all__ = [
    "DEFAULT_SIGNAL_PARAMS",
    "HIGHER_TIMEFRAMES",
    "OPEN_END",
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
]
