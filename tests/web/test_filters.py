from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cryptolens.domain.timeframes import DAY_MS, HOUR_MS, MINUTE_MS
from cryptolens.web.filters import (
    duration,
    format_local,
    percent,
    price,
    price_decimals,
    r_multiple,
    timezone_names,
    zone_named,
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (64123.456, "64,123.5"),
        (1234567.0, "1,234,567"),
        (1.23456789, "1.23457"),
        (0.00001234, "0.0000123400"),
        (-2.5, "-2.50000"),
        (0.0, "0"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_price_shows_six_significant_digits_from_large_to_micro_caps(
    value: float | None, shown: str
) -> None:
    assert price(value) == shown


def test_price_decimals_grow_as_the_price_shrinks() -> None:
    assert [price_decimals(v) for v in (50_000.0, 1.0, 0.01, 0.000001)] == [1, 5, 7, 11]


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (45 * MINUTE_MS, "45m"),
        (3 * HOUR_MS + 20 * MINUTE_MS, "3h 20m"),
        (2 * HOUR_MS, "2h"),
        (2 * DAY_MS + 4 * HOUR_MS, "2d 4h"),
        (-1, "in the future"),
        (None, "—"),
    ],
)
def test_duration_reads_like_a_trader_would_say_it(ms: int | None, shown: str) -> None:
    assert duration(ms) == shown


def test_percent_and_r_multiple() -> None:
    assert (percent(0.425), percent(None)) == ("42.5%", "—")
    assert (r_multiple(1.5), r_multiple(-1.0), r_multiple(None)) == ("+1.50R", "-1.00R", "—")


WINTER = datetime(2026, 1, 15, 17, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 17, 5, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("moment", "shown"),
    [(WINTER, "2026-01-15 12:05 EST"), (SUMMER, "2026-07-15 13:05 EDT")],
)
def test_new_york_is_five_hours_behind_in_winter_and_four_in_summer(
    moment: datetime, shown: str
) -> None:
    assert format_local(moment, NEW_YORK, "%Y-%m-%d %H:%M %Z") == shown


def test_epoch_ms_and_naive_datetimes_are_utc_instants() -> None:
    ms = int(SUMMER.timestamp() * 1000)
    naive = SUMMER.replace(tzinfo=None)
    berlin = ZoneInfo("Europe/Berlin")
    assert format_local(ms, berlin, "%H:%M %Z") == "19:05 CEST"
    assert format_local(naive, berlin, "%H:%M %Z") == "19:05 CEST"
    assert format_local(None, berlin, "%H:%M") == "—"


def test_a_day_boundary_follows_the_zone_not_utc() -> None:
    late = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    assert format_local(late, NEW_YORK, "%Y-%m-%d") == "2026-02-28"


def test_an_unknown_or_missing_zone_falls_back_to_utc() -> None:
    assert zone_named("Mars/Olympus").key == "UTC"
    assert zone_named(None).key == "UTC"
    assert zone_named("../etc/passwd").key == "UTC"


def test_the_zone_list_is_sorted_and_holds_the_common_zones() -> None:
    names = timezone_names()
    assert list(names) == sorted(names)
    assert {"UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo"} <= set(names)
