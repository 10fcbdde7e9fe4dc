from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.domain.accounts import SUBSCRIPTION_GRACE, subscription_in_force
from cryptolens.domain.billing import (
    AmountMismatchError,
    BillingPeriod,
    PaymentStatus,
    PlanPrice,
    PriceList,
    add_months,
    add_period,
    check_amount,
    ended_now,
    from_minor_units,
    next_period_end,
    payment_status_advances,
    reminder_due,
    strip_secrets,
)
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.plans import Plan

moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (at(2025, 1, 31), 1, at(2025, 2, 28)),
        (at(2024, 1, 31), 1, at(2024, 2, 29)),
        (at(2024, 3, 31), 1, at(2024, 4, 30)),
        (at(2024, 12, 15), 1, at(2025, 1, 15)),
        (at(2024, 8, 31), 6, at(2025, 2, 28)),
        (at(2024, 2, 29), 12, at(2025, 2, 28)),
        (at(2023, 2, 28), 12, at(2024, 2, 28)),
    ],
)
def test_adding_months_clamps_to_the_end_of_shorter_months(
    start: datetime, months: int, end: datetime
) -> None:
    assert add_months(start, months) == end


def test_a_year_from_a_leap_day_ends_on_february_28() -> None:
    assert add_period(at(2028, 2, 29), BillingPeriod.YEARLY) == at(2029, 2, 28)


def test_negative_months_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_months(at(2025, 1, 1), -1)


@given(moments, st.integers(min_value=0, max_value=240))
def test_added_months_land_in_the_right_month_on_the_same_or_the_last_day(
    start: datetime, months: int
) -> None:
    end = add_months(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
    last = calendar.monthrange(end.year, end.month)[1]
    assert end.day == min(start.day, last)
    assert end.time() == start.time()
    assert end.tzinfo is UTC


@given(moments)
def test_a_monthly_period_lasts_28_to_31_days_and_a_year_365_or_366(start: datetime) -> None:
    month = add_period(start, BillingPeriod.MONTHLY) - start
    year = add_period(start, BillingPeriod.YEARLY) - start
    assert timedelta(days=28) <= month <= timedelta(days=31)
    assert timedelta(days=365) <= year <= timedelta(days=366)


@given(moments)
def test_twelve_months_are_one_year(start: datetime) -> None:
    assert add_period(start, BillingPeriod.MONTHLY, 12) == add_period(start, BillingPeriod.YEARLY)


@given(moments, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_renewal_extends_from_the_current_end_while_the_plan_is_in_force(
    end: datetime, before_end: timedelta
) -> None:
    now = end - before_end
    assert next_period_end(end, now, BillingPeriod.MONTHLY) == add_months(end, 1)


def test_renewal_in_the_grace_period_still_extends_from_the_old_end() -> None:
    end = at(2025, 1, 31)
    now = end + SUBSCRIPTION_GRACE - timedelta(minutes=1)
    assert next_period_end(end, now, BillingPeriod.MONTHLY) == at(2025, 2, 28)


def test_renewal_after_the_plan_lapsed_starts_today() -> None:
    end = at(2025, 1, 31)
    now = end + SUBSCRIPTION_GRACE + timedelta(days=1)
    assert next_period_end(end, now, BillingPeriod.YEARLY) == add_months(now, 12)
    assert next_period_end(None, now, BillingPeriod.MONTHLY) == add_months(now, 1)


def test_ended_now_is_out_of_force_at_once_and_in_force_a_moment_before() -> None:
    now = at(2025, 5, 5)
    expiry = ended_now(now)
    assert not subscription_in_force(expiry, now)
    assert subscription_in_force(expiry, now - timedelta(seconds=1))


def test_reminder_is_due_once_within_seven_days_before_the_end() -> None:
    end = at(2025, 6, 30)
    assert not reminder_due(end, end - timedelta(days=8), None)
    assert reminder_due(end, end - timedelta(days=7), None)
    assert not reminder_due(end, end - timedelta(days=3), reminded_for=end)
    renewed = add_months(end, 1)
    assert reminder_due(renewed, renewed - timedelta(days=2), reminded_for=end)
    assert not reminder_due(end, end, None)


PRICES = PriceList(
    "USD",
    {
        (Plan.PRO, BillingPeriod.MONTHLY): Decimal("19"),
        (Plan.PRO, BillingPeriod.YEARLY): Decimal("190"),
        (Plan.PREMIUM, BillingPeriod.MONTHLY): Decimal("49.99"),
        (Plan.PREMIUM, BillingPeriod.YEARLY): Decimal("490"),
    },
)


def test_price_list_names_every_paid_plan_and_period() -> None:
    assert PRICES.price("premium", "monthly") == PlanPrice(
        Plan.PREMIUM, BillingPeriod.MONTHLY, Decimal("49.99"), "USD"
    )
    assert len(PRICES.all()) == 4


@pytest.mark.parametrize(("plan", "period"), [("free", "monthly"), ("pro", "weekly"), ("", "")])
def test_unknown_plans_and_periods_are_validation_errors(plan: str, period: str) -> None:
    with pytest.raises(ValidationError):
        PRICES.price(plan, period)


def test_amount_check_takes_the_exact_price_in_any_notation() -> None:
    price = PRICES.price("premium", "monthly")
    check_amount(price, Decimal("49.990"), "usd")
    check_amount(price, from_minor_units(4999), "USD")


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [("49.98", "USD", "not the premium monthly price"), ("49.99", "EUR", "currency")],
)
def test_amount_check_refuses_another_amount_or_currency(
    amount: str, currency: str, message: str
) -> None:
    with pytest.raises(AmountMismatchError, match=message):
        check_amount(PRICES.price("premium", "monthly"), Decimal(amount), currency)


def test_payment_status_never_moves_backwards() -> None:
    assert payment_status_advances(PaymentStatus.PENDING, PaymentStatus.PAID)
    assert not payment_status_advances(PaymentStatus.PAID, PaymentStatus.PENDING)
    assert not payment_status_advances(PaymentStatus.REFUNDED, PaymentStatus.PAID)
    assert payment_status_advances(PaymentStatus.PAID, PaymentStatus.REFUNDED)


def test_secrets_are_stripped_at_any_depth() -> None:
    raw = {"a": {"api_key": "k", "list": [{"Signature": "s", "ok": 1}]}, "pay_address": "x"}
    assert strip_secrets(raw) == {
        "a": {"api_key": "[redacted]", "list": [{"Signature": "[redacted]", "ok": 1}]},
        "pay_address": "[redacted]",
    }
