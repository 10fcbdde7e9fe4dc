from __future__ import annotations

from decimal import Decimal

import pytest

from cryptolens.domain.portfolio_rules import (
    check_balance,
    check_currency,
    check_direction,
    check_symbol,
    check_targets,
    clean_tags,
    parse_decimal,
)
from cryptolens.domain.trades import Direction, FieldError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" btc/usdt ", "BTC/USDT"),
        ("ETH/BTC", "ETH/BTC"),
        ("A/B", "A/B"),
        ("1000PEPE/USDT", "1000PEPE/USDT"),
    ],
)
def test_symbols_of_a_known_form_are_spelled_canonically(text: str, expected: str) -> None:
    assert check_symbol(text) == expected


@pytest.mark.parametrize(
    "text", ["AB", "", "BTCUSDT", "BTC/", "BTC/USDT/X", "BTC-USDT", "\u0392TC/USDT"]
)
def test_symbols_of_no_known_form_are_refused(text: str) -> None:
    with pytest.raises(FieldError) as caught:
        check_symbol(text)
    assert caught.value.field == "symbol"


def test_quote_currencies_come_from_a_fixed_list() -> None:
    assert check_currency(" usdc ") == "USDC"
    with pytest.raises(FieldError, match="'XYZ' is not one of USD, USDT"):
        check_currency("XYZ")


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("0.0000000001", True),
        ("999999999.99", True),
        ("0", False),
        ("1000000000", False),
        ("-3", False),
    ],
)
def test_initial_balance_lies_strictly_between_0_and_a_billion(text: str, ok: bool) -> None:
    if ok:
        assert check_balance(Decimal(text)) == Decimal(text)
    else:
        with pytest.raises(FieldError):
            check_balance(Decimal(text))


@pytest.mark.parametrize("text", ["", "abc", "1,5", "NaN", "Infinity", "1" * 41])
def test_decimal_text_that_is_not_a_number_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(FieldError, match="Price must be a number") as caught:
        parse_decimal("price", text, "Price")
    assert caught.value.field == "price"


def test_decimal_text_is_read_exactly() -> None:
    assert parse_decimal("price", " 0.000012345 ", "Price") == Decimal("0.000012345")


def test_direction_is_long_or_short() -> None:
    assert check_direction(" Short ") is Direction.SHORT
    with pytest.raises(FieldError, match="long or short"):
        check_direction("bullish")


def test_targets_are_optional_positive_and_at_most_three() -> None:
    assert check_targets([Decimal(1)]) == (Decimal(1), None, None)
    with pytest.raises(FieldError, match="Target 2 must be greater than 0"):
        check_targets([Decimal(1), Decimal(0)])
    with pytest.raises(FieldError, match="at most three"):
        check_targets([Decimal(1)] * 4)


def test_tags_are_trimmed_lower_cased_and_deduplicated() -> None:
    assert clean_tags(["  Break  Out ", "break out", "", "A+"]) == ("break out", "a+")
    with pytest.raises(FieldError, match="at most 20 tags"):
        clean_tags([f"t{n}" for n in range(21)])
    with pytest.raises(FieldError, match="at most 40 characters"):
        clean_tags(["x" * 41])
