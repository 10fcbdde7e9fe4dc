"""Timeframes: names, durations and UTC bucket arithmetic on epoch-millisecond open times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from cryptolens.domain.errors import ValidationError

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

#: Every timeframe CryptoLens knows, shortest first, with its length in milliseconds.
TIMEFRAME_MS: dict[str, int] = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "1d": DAY_MS,
}

#: How long a zone stays open on each timeframe before it expires (architecture document;
#: 30m and 2h interpolated between their neighbours).
ZONE_EXPIRY: dict[str, timedelta] = {
    "1m": timedelta(hours=4),
    "5m": timedelta(hours=12),
    "15m": timedelta(hours=24),
    "30m": timedelta(hours=48),
    "1h": timedelta(days=3),
    "2h": timedelta(days=5),
    "4h": timedelta(days=7),
    "1d": timedelta(days=14),
}


def timeframe_ms(timeframe: str) -> int:
    """Length of one candle of ``timeframe`` in milliseconds; raises ValidationError if unknown."""
    try:
        return TIMEFRAME_MS[timeframe]
    except KeyError:
        known = ", ".join(TIMEFRAME_MS)
        raise ValidationError(f"unknown timeframe {timeframe!r} (known: {known})") from None


def parse_timeframes(names: Iterable[str]) -> tuple[str, ...]:
    """Validate timeframe names and return them unique, shortest first."""
    unique = {name.strip() for name in names if name.strip()}
    for name in unique:
        timeframe_ms(name)
    return tuple(sorted(unique, key=TIMEFRAME_MS.__getitem__))


def finer_timeframes(timeframe: str) -> tuple[str, ...]:
    """Timeframes that divide ``timeframe`` evenly, longest first: where a candle that reaches
    both a stop and a target is looked at more closely."""
    ms = timeframe_ms(timeframe)
    finer = [tf for tf, step in TIMEFRAME_MS.items() if step < ms and ms % step == 0]
    return tuple(sorted(finer, key=TIMEFRAME_MS.__getitem__, reverse=True))


def bucket_start(open_time_ms: int, timeframe: str) -> int:
    """Open time of the ``timeframe`` bucket (UTC-aligned) containing ``open_time_ms``."""
    step = timeframe_ms(timeframe)
    return open_time_ms - open_time_ms % step


def last_closed_open_time(now_ms: int, timeframe: str) -> int:
    """Open time of the newest candle of ``timeframe`` whose period has ended at ``now_ms``."""
    step = timeframe_ms(timeframe)
    return bucket_start(now_ms, timeframe) - step


def is_closed(open_time_ms: int, timeframe: str, now_ms: int) -> bool:
    """True when the candle opening at ``open_time_ms`` has closed by ``now_ms``."""
    return open_time_ms + timeframe_ms(timeframe) <= now_ms


def ms_to_datetime(ms: int) -> datetime:
    """UTC-aware datetime for epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def datetime_to_ms(moment: datetime) -> int:
    """Epoch milliseconds for an aware datetime (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
