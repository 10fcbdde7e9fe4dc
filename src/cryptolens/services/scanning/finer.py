"""Stored candles below the base timeframe, looked up by the scanner to settle a candle that
reaches both a stop and a target (the backtest's ``replay.finer_lookup`` answers the same way)."""

from __future__ import annotations

from sqlalchemy import Connection

from cryptolens.db.candles import load_candles
from cryptolens.detect import Candles, as_candles
from cryptolens.domain.timeframes import TIMEFRAME_MS, finer_timeframes


class StoredFinerCandles:
    """Candles below the base timeframe, if any are stored, to settle same-candle exits."""

    def __init__(self, connection: Connection, symbol_id: int, base_timeframe: str) -> None:
        self._connection = connection
        self._symbol_id = symbol_id
        self._candidates = finer_timeframes(base_timeframe)

    def __call__(self, open_time: int, span_ms: int) -> tuple[Candles, int] | None:
        for tf in self._candidates:
            step = TIMEFRAME_MS[tf]
            stored = load_candles(
                self._connection,
                symbol_id=self._symbol_id,
                timeframe=tf,
                start_ms=open_time,
                end_ms=open_time + span_ms,
            )
            if len(stored.open_time) == span_ms // step:
                return as_candles(stored), step
        return None
