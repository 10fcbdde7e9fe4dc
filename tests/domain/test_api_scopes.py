from __future__ import annotations

import pytest

from cryptolens.domain.api_scopes import (
    ADMIN_SCOPES,
    RateLimits,
    Scope,
    address_allowed,
    parse_key,
    parse_networks,
    parse_scopes,
)
from cryptolens.domain.errors import ValidationError

KEY = "cl_abcdefghij12_" + "A" * 40 + "-_x"


def test_admin_scopes_are_exactly_the_admin_colon_ones() -> None:
    assert {Scope.ADMIN_SCHEDULER, Scope.ADMIN_SYMBOLS} == ADMIN_SCOPES


def test_parse_scopes_trims_and_lowercases_and_skips_blanks() -> None:
    assert parse_scopes([" READ:signals", "", "write:scan "]) == {
        Scope.READ_SIGNALS,
        Scope.WRITE_SCAN,
    }


def test_parse_scopes_names_an_unknown_scope() -> None:
    with pytest.raises(ValidationError, match="Unknown scope 'read:everything'"):
        parse_scopes(["read:signals", "read:everything"])


def test_parse_scopes_needs_at_least_one() -> None:
    with pytest.raises(ValidationError, match="at least one scope"):
        parse_scopes(["", " "])


def test_parse_networks_canonicalises_addresses_and_ranges_of_both_families() -> None:
    assert parse_networks(
        ["10.1.2.3", "10.0.0.0/8", "2001:DB8::/32", "10.0.0.0/8"], field="allow"
    ) == (
        "10.1.2.3/32",
        "10.0.0.0/8",
        "2001:db8::/32",
    )


def test_parse_networks_names_the_field_and_the_bad_entry() -> None:
    with pytest.raises(ValidationError, match=r"deny: '10\.0\.0\.300' is not an IP address"):
        parse_networks(["10.0.0.300"], field="deny")


@pytest.mark.parametrize(
    ("ip", "allow", "deny", "expected"),
    [
        ("203.0.113.9", (), (), True),  # no rules: anyone
        ("10.1.2.3", ("10.0.0.0/8",), (), True),
        ("11.1.2.3", ("10.0.0.0/8",), (), False),
        ("10.6.6.6", ("10.0.0.0/8",), ("10.6.0.0/16",), False),  # deny wins
        ("10.1.2.3", (), ("10.6.0.0/16",), True),  # deny only: others pass
        ("2001:db8::1", ("2001:db8::/32",), (), True),
        ("2001:db9::1", ("2001:db8::/32",), (), False),
        ("2001:db8:6::1", ("2001:db8::/32",), ("2001:db8:6::/48",), False),
        ("::ffff:10.1.2.3", ("10.0.0.0/8",), (), True),  # IPv4-mapped IPv6
        ("10.1.2.3", ("2001:db8::/32",), (), False),  # other family
        (None, ("10.0.0.0/8",), (), False),
        ("not an address", (), ("10.0.0.0/8",), False),
    ],
)
def test_address_rules(
    ip: str | None, allow: tuple[str, ...], deny: tuple[str, ...], expected: bool
) -> None:
    assert address_allowed(ip, allow=allow, deny=deny) is expected


def test_own_limits_are_filled_from_the_plan_and_may_not_exceed_it() -> None:
    ceiling = RateLimits(200, 5000, 50_000)
    assert RateLimits(minute=10).within(ceiling) == RateLimits(10, 5000, 50_000)
    with pytest.raises(ValidationError, match="per hour may be at most 5000"):
        RateLimits(hour=5001).within(ceiling)
    with pytest.raises(ValidationError, match="per day must be at least 1"):
        RateLimits(day=0).within(ceiling)


def test_parse_key_splits_a_well_formed_key() -> None:
    assert parse_key(f" {KEY} ") == ("abcdefghij12", "A" * 40 + "-_x")


@pytest.mark.parametrize(
    "text",
    [
        "",
        KEY[:-1],
        KEY + "A",
        "xx" + KEY[2:],
        KEY.replace("abcdefghij12", "ABCDEFGHIJ12"),
        KEY.replace("_A", "-A", 1),
        KEY[:-1] + "\x00",
        KEY[:-1] + "é",
    ],
)
def test_parse_key_refuses_anything_else(text: str) -> None:
    assert parse_key(text) is None
