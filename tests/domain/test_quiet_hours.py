"""Quiet hours across the 2026 daylight-saving changes of Europe/Berlin (29 March, 25 October)
and America/New_York (8 March, 1 November), and properties over any instant and window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.domain.quiet_hours import in_window, local_day, quiet_until, zone

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hm(text: str) -> time:
    return time.fromisoformat(text)


@pytest.mark.parametrize(
    ("tz", "now", "start", "end", "until"),
    [
        # An ordinary night: 22:00-07:00 CET is 21:00-06:00 UTC.
        (BERLIN, "2026-02-10T23:00", "22:00", "07:00", "2026-02-11T06:00"),
        # Spring forward: the night is an hour shorter; 07:00 CEST is 05:00 UTC.
        (BERLIN, "2026-03-28T22:00", "22:00", "07:00", "2026-03-29T05:00"),
        # Fall back: 07:00 CET is 06:00 UTC the morning after the clocks go back.
        (BERLIN, "2026-10-24T20:30", "22:00", "07:00", "2026-10-25T06:00"),
        # An end in the skipped hour (02:30 on 29 March) is the jump: 03:00 CEST, 01:00 UTC.
        (BERLIN, "2026-03-29T00:30", "23:00", "02:30", "2026-03-29T01:00"),
        # A start in the skipped hour: quiet from the jump (03:00 CEST) on.
        (BERLIN, "2026-03-29T01:00", "02:30", "06:00", "2026-03-29T04:00"),
        # 02:10 CEST, first pass of the repeated hour: ends at the first 02:30 (CEST).
        (BERLIN, "2026-10-25T00:10", "00:00", "02:30", "2026-10-25T00:30"),
        # 02:10 CET, second pass: the first 02:30 is past, so the second (CET) ends it.
        (BERLIN, "2026-10-25T01:10", "00:00", "02:30", "2026-10-25T01:30"),
        # New York: 22:00 EST to 06:00 EDT on the spring-forward night.
        (NEW_YORK, "2026-03-08T04:00", "22:00", "06:00", "2026-03-08T10:00"),
        # End in New York's skipped hour (02:00-03:00 on 8 March): the jump, 07:00 UTC.
        (NEW_YORK, "2026-03-08T06:30", "01:00", "02:30", "2026-03-08T07:00"),
        # The night the clocks go back: 06:00 EST is 11:00 UTC.
        (NEW_YORK, "2026-11-01T03:00", "22:00", "06:00", "2026-11-01T11:00"),
        # 01:00 EDT then 01:00 EST: each pass ends at its own 01:30.
        (NEW_YORK, "2026-11-01T05:00", "00:30", "01:30", "2026-11-01T05:30"),
        (NEW_YORK, "2026-11-01T06:00", "00:30", "01:30", "2026-11-01T06:30"),
        # A daytime window.
        (NEW_YORK, "2026-06-01T14:00", "09:00", "17:00", "2026-06-01T21:00"),
    ],
)
def test_quiet_hours_end_at_the_users_wall_clock_end(
    tz: str, now: str, start: str, end: str, until: str
) -> None:
    assert quiet_until(utc(now), hm(start), hm(end), tz) == utc(until)


@pytest.mark.parametrize(
    ("tz", "now", "start", "end"),
    [
        (BERLIN, "2026-02-10T20:59", "22:00", "07:00"),  # 21:59 CET, a minute early
        (BERLIN, "2026-03-29T05:00", "22:00", "07:00"),  # 07:00 CEST: over
        (BERLIN, "2026-03-29T00:59:59", "02:30", "06:00"),  # 01:59:59 CET, before the jump
        (BERLIN, "2026-10-25T00:45", "00:00", "02:30"),  # 02:45 CEST, between the two passes
        (NEW_YORK, "2026-06-01T21:00", "09:00", "17:00"),
        (NEW_YORK, "2026-06-01T21:00", "09:00", "09:00"),  # an empty window
    ],
)
def test_outside_quiet_hours_there_is_no_end(tz: str, now: str, start: str, end: str) -> None:
    assert quiet_until(utc(now), hm(start), hm(end), tz) is None


def test_the_local_day_is_the_users_calendar_day() -> None:
    new_year = utc("2026-12-31T23:30")
    assert local_day(new_year, BERLIN) == date(2027, 1, 1)
    assert local_day(new_year, NEW_YORK) == date(2026, 12, 31)
    assert local_day(new_year, "UTC") == date(2026, 12, 31)


def test_an_unknown_zone_reads_as_utc() -> None:
    assert zone("Mars/Olympus_Mons").key == "UTC"
    assert local_day(utc("2026-12-31T23:30"), "Not/AZone") == date(2026, 12, 31)


ZONES = st.sampled_from(
    [BERLIN, NEW_YORK, "UTC", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"]
)
MINUTES = st.integers(min_value=0, max_value=24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
# The 2026 clock changes of the zones above (UTC), roughly: instants are drawn around them
# as well as anywhere in the year.
CHANGES = [
    utc(t)
    for t in (
        "2026-03-08T07:00",
        "2026-03-29T01:00",
        "2026-04-04T15:00",
        "2026-04-05T03:00",
        "2026-09-06T04:00",
        "2026-10-03T15:30",
        "2026-10-25T01:00",
        "2026-11-01T06:00",
    )
]
ANYWHERE = st.integers(min_value=0, max_value=365 * 86_400).map(
    lambda s: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
)
AROUND_A_CHANGE = st.builds(
    lambda change, s: change + timedelta(seconds=s),
    st.sampled_from(CHANGES),
    st.integers(min_value=-30 * 3600, max_value=30 * 3600),
)
INSTANTS = st.one_of(ANYWHERE, AROUND_A_CHANGE)


@settings(max_examples=400, deadline=None)
@given(now=INSTANTS, start=MINUTES, end=MINUTES, tz=ZONES)
def test_quiet_hours_end_the_first_time_the_clock_reaches_the_end(
    now: datetime, start: time, end: time, tz: str
) -> None:
    where = zone(tz)
    until = quiet_until(now, start, end, tz)
    clock = now.astimezone(where).time().replace(tzinfo=None)
    assert (until is not None) == in_window(clock, start, end)
    if until is None:
        return
    assert now < until <= now + timedelta(hours=25)
    shown = until.astimezone(where)
    if shown.time() != end:
        # In a skipped hour: the clock jumped from before ``end`` to after it.
        before = (until - timedelta(seconds=1)).astimezone(where).replace(tzinfo=None)
        assert before < datetime.combine(shown.date(), end) < shown.replace(tzinfo=None)
    # No whole minute between now and then shows ``end`` on the clock.
    minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while minute < until:
        assert minute.astimezone(where).time() != end
        minute += timedelta(minutes=1)
