"""Quiet hours: a wall-clock window of the user's local day ("22:00 to 07:00 in
Europe/Berlin") during which alerts are dropped or held until it ends.

A moment is quiet when the user's clock shows a time inside ``[start, end)``; a window whose
start is after its end crosses midnight. Daylight saving time is read from zoneinfo:

- spring forward: a start or end inside the skipped hour is reached at the first valid
  instant, the moment the clock jumps (02:30 in Berlin on 29 March 2026 is 03:00 CEST);
- fall back: the clock shows the repeated hour twice, and quiet hours end at the first time it
  shows ``end`` after now (the first occurrence, or the second once the first is past).
  A window that starts inside the repeated hour stays quiet through it, although the clock
  briefly shows an earlier time again: an hour, once a year, is not worth an interrupted night.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """The time zone ``name``; UTC for a name zoneinfo does not know (accounts validate the
    name when it is set, so this only guards against a zone database that lost one)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(now_utc: datetime, tz: str) -> date:
    """The user's calendar day at ``now_utc`` (the day a daily cap counts on)."""
    return now_utc.astimezone(zone(tz)).date()


def in_window(clock: time, start: time, end: time) -> bool:
    """Whether the wall-clock time ``clock`` lies in ``[start, end)`` (crossing midnight when
    ``start > end``; an empty window when they are equal)."""
    if start < end:
        return start <= clock < end
    if start > end:
        return clock >= start or clock < end
    return False


def quiet_until(now_utc: datetime, start: time, end: time, tz: str) -> datetime | None:
    """The UTC instant the quiet hours around ``now_utc`` end (the first instant after it at
    which the user's clock shows ``end``, or jumps past it); None when it is not quiet."""
    where = zone(tz)
    local = now_utc.astimezone(where)
    if not in_window(local.time().replace(tzinfo=None, fold=0), start, end):
        return None
    today = local.date()
    # Yesterday too: a clock set back across midnight shows yesterday's date again.
    candidates = [
        instant
        for day in (today - timedelta(days=1), today, today + timedelta(days=1))
        for instant in occurrences(day, end, where)
        if instant > now_utc
    ]
    return min(candidates)


def occurrences(day: date, clock: time, where: ZoneInfo) -> tuple[datetime, ...]:
    """The UTC instants at which the clock in ``where`` shows ``clock`` on ``day``: one; two
    when the clock is set back over it; none in a skipped hour, where the moment the clock
    jumps past it stands in (02:30 on a spring-forward night in Berlin: 03:00 CEST)."""
    wall = datetime.combine(day, clock)
    first = wall.replace(tzinfo=where, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=where, fold=1).astimezone(UTC)
    if _wall_time(first, where) != wall:
        # Skipped: fold=1 reads the time with the offset after the jump, which lands before it.
        return (_jump(min(first, second), max(first, second), wall, where),)
    return (first,) if first == second else (first, second)


def _wall_time(instant: datetime, where: ZoneInfo) -> datetime:
    return instant.astimezone(where).replace(tzinfo=None, fold=0)


def _jump(low: datetime, high: datetime, wall: datetime, where: ZoneInfo) -> datetime:
    """The first instant in ``(low, high]`` whose clock shows ``wall`` or later (the clock only
    moves forward there, so a bisection to the second finds the jump)."""
    lo, hi = 0, int((high - low).total_seconds())
    while lo < hi:
        mid = (lo + hi) // 2
        if _wall_time(low + timedelta(seconds=mid), where) >= wall:
            hi = mid
        else:
            lo = mid + 1
    return low + timedelta(seconds=lo)
