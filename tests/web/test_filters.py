from __future__ import annotations

import pytest

from cryptolens.domain.timeframes import DAY_MS, HOUR_MS, MINUTE_MS
from cryptolens.web.filters import duration, percent, price, price_decimals, r_multiple


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
