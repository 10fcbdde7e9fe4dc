"""One symbol rule: what BASE/QUOTE text is accepted, and every entry point applies it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cryptolens.domain.errors import ValidationError
from cryptolens.domain.plans import Plan
from cryptolens.domain.symbols import parse_symbol, split_symbol
from cryptolens.market.simulator.api import Listing
from cryptolens.services.accounts.policy import check_symbols
from tests.builders.settings import make_settings

BAD = [
    "BTCUSDT",
    "BTC/",
    "/USDT",
    "BTC/USDT/EUR",
    "BTC/US-DT",
    "BTC\x00/USDT",
    "\uff11\uff12\uff13/USDT",  # fullwidth digits
    "A" * 17 + "/USDT",
    "",
]


def test_symbols_are_spelled_upper_case_without_spaces() -> None:
    assert parse_symbol(" eth/usdt ") == "ETH/USDT"
    assert split_symbol("1000pepe/usdt") == ("1000PEPE", "USDT")


@pytest.mark.parametrize("text", BAD)
def test_anything_but_ascii_base_slash_quote_is_refused_naming_the_text(text: str) -> None:
    with pytest.raises(ValidationError, match="BASE/QUOTE"):
        parse_symbol(text)


@pytest.mark.parametrize("text", [t for t in BAD if t])
def test_settings_plans_and_the_simulator_refuse_the_same_symbols(text: str) -> None:
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        make_settings(SYMBOLS=text)
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        Listing.of(text)


@dataclass(frozen=True)
class _Premium:
    plan: Plan = Plan.PREMIUM
    is_admin: bool = False


def test_the_watchlist_uses_the_same_rule() -> None:
    with pytest.raises(ValidationError, match="BASE/QUOTE"):
        check_symbols(_Premium(), ["BTC/US-DT"])
