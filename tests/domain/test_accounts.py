from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cryptolens.domain.accounts import (
    check_password,
    normalize_email,
    subscription_in_force,
)
from cryptolens.domain.errors import ValidationError
from cryptolens.services.accounts.passwords import common_passwords

COMMON = frozenset({"password1234", "qwertyuiop"})


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Ana.Lopez@Example.COM ") == "ana.lopez@example.com"
    for bad in ("", "no-at-sign", "two@@example.com", "a@b", "sp ace@example.com"):
        with pytest.raises(ValidationError):
            normalize_email(bad)


def test_emails_with_control_characters_are_refused() -> None:
    for bad in ("nul\x00@example.com", "a@exam\x00ple.com", "tab\t@example.com", "a@b.c\x7f"):
        with pytest.raises(ValidationError):
            normalize_email(bad)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("nine char", "at least 10"),
        ("PASSWORD1234", "most common"),
        ("Ana.Lopez@example.com", "your email"),
        ("ana.lopez1", None),
        ("x" * 257, "at most 256"),
    ],
)
def test_the_password_policy(password: str, reason: str | None) -> None:
    if reason is None:
        check_password(password, email="ana.lopez@example.com", common=COMMON)
        return
    with pytest.raises(ValidationError, match=reason):
        check_password(password, email="ana.lopez@example.com", common=COMMON)


def test_the_local_part_of_the_email_is_refused_too() -> None:
    with pytest.raises(ValidationError, match="your email"):
        check_password("ana.lopez.trader", email="ana.lopez.trader@example.com", common=COMMON)


def test_the_shipped_list_has_about_a_thousand_long_entries() -> None:
    words = common_passwords()
    assert 900 <= len(words) <= 1100
    assert "password1234" in words
    assert "bitcoin123" in words


def test_a_subscription_counts_until_three_days_after_expiry() -> None:
    end = datetime(2026, 1, 1, tzinfo=UTC)
    assert subscription_in_force(None, end)
    assert subscription_in_force(end, end + timedelta(days=3) - timedelta(microseconds=1))
    assert not subscription_in_force(end, end + timedelta(days=3))
