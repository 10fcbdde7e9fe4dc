"""Selling plans, as plain rules: billing periods and their date arithmetic, plan prices and
the amount check, what the providers' statuses mean, and the event a webhook carries once
its signature checked out. No I/O, no clock: every function takes ``now`` when it needs it."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from cryptolens.domain.accounts import SUBSCRIPTION_GRACE
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.plans import Plan

#: Days before a period ends that the renewal reminder goes out.
REMINDER_LEAD = timedelta(days=7)


class BillingPeriod(StrEnum):
    MONTHLY = "monthly"
    YEARLY = "yearly"


class Provider(StrEnum):
    LEMONSQUEEZY = "lemonsqueezy"
    NOWPAYMENTS = "nowpayments"


#: The plans one can buy (Free is what remains without one).
PAID_PLANS = (Plan.PRO, Plan.PREMIUM)


class PaymentStatus(StrEnum):
    """A payment's own state, whichever provider took it."""

    PENDING = "pending"  # created, waiting for money or confirmations
    PARTIAL = "partial"  # less than the price arrived (NOWPayments partially_paid)
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"


#: A payment only moves forward: a late "confirming" never undoes "paid", nothing undoes a
#: refund. Equal ranks may replace each other (failed <-> expired).
_PAYMENT_RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.PARTIAL: 1,
    PaymentStatus.FAILED: 2,
    PaymentStatus.EXPIRED: 2,
    PaymentStatus.PAID: 3,
    PaymentStatus.REFUNDED: 4,
}

#: NOWPayments' payment_status values, as ours.
NOWPAYMENTS_STATUS: dict[str, PaymentStatus] = {
    "waiting": PaymentStatus.PENDING,
    "confirming": PaymentStatus.PENDING,
    "confirmed": PaymentStatus.PENDING,
    "sending": PaymentStatus.PENDING,
    "finished": PaymentStatus.PAID,
    "partially_paid": PaymentStatus.PARTIAL,
    "failed": PaymentStatus.FAILED,
    "expired": PaymentStatus.EXPIRED,
    "refunded": PaymentStatus.REFUNDED,
}

#: The LemonSqueezy events CryptoLens acts on.
LEMONSQUEEZY_EVENTS = frozenset(
    {
        "order_created",
        "order_refunded",
        "subscription_created",
        "subscription_updated",
        "subscription_payment_success",
        "subscription_cancelled",
        "subscription_expired",
    }
)


def payment_status_advances(current: PaymentStatus, new: PaymentStatus) -> bool:
    """Whether a payment in ``current`` may move to ``new`` (never backwards)."""
    return _PAYMENT_RANK[new] >= _PAYMENT_RANK[current]


# --- period arithmetic -----------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus ``months`` calendar months, the day clamped to the month's end
    (Jan 31 + 1 month = Feb 28, or Feb 29 in a leap year); the time of day is kept."""
    if months < 0:
        raise ValueError("months must not be negative")
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_period(moment: datetime, period: BillingPeriod, count: int = 1) -> datetime:
    """``moment`` plus ``count`` billing periods (a year is twelve months: Feb 29 + 1 year
    = Feb 28)."""
    return add_months(moment, count * (12 if period is BillingPeriod.YEARLY else 1))


def renewal_base(current_end: datetime | None, now: datetime) -> datetime:
    """Where a paid period starts: the current end while the plan is still in force (grace
    included), so paying early or late in the grace loses no day; otherwise now."""
    if current_end is not None and now < current_end + SUBSCRIPTION_GRACE:
        return current_end
    return now


def next_period_end(current_end: datetime | None, now: datetime, period: BillingPeriod) -> datetime:
    """The end of the period a payment at ``now`` buys (renewing from the current end)."""
    return add_period(renewal_base(current_end, now), period)


def ended_now(now: datetime) -> datetime:
    """An expiry whose grace is already over: the plan ends at ``now`` (a refund or
    chargeback), through the same in-force rule every plan check uses."""
    return now - SUBSCRIPTION_GRACE


def reminder_due(period_end: datetime, now: datetime, reminded_for: datetime | None) -> bool:
    """Whether the renewal reminder for a period ending at ``period_end`` is due at ``now``
    (once per period end, within REMINDER_LEAD before it)."""
    return reminded_for != period_end and now < period_end <= now + REMINDER_LEAD


# --- prices ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanPrice:
    plan: Plan
    period: BillingPeriod
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class PriceList:
    """Every (paid plan, period) price, in one currency."""

    currency: str
    amounts: Mapping[tuple[Plan, BillingPeriod], Decimal]

    def price(self, plan: str, period: str) -> PlanPrice:
        """The price of ``plan`` per ``period``; ValidationError naming a bad one."""
        chosen, every = parse_plan(plan), parse_period(period)
        return PlanPrice(chosen, every, self.amounts[(chosen, every)], self.currency)

    def all(self) -> list[PlanPrice]:
        return [self.price(plan, period) for plan in PAID_PLANS for period in BillingPeriod]


def parse_plan(raw: str) -> Plan:
    """A plan one can buy; ValidationError otherwise."""
    if raw not in (plan.value for plan in PAID_PLANS):
        raise ValidationError(f"Unknown plan {raw!r}; choose pro or premium.")
    return Plan(raw)


def parse_period(raw: str) -> BillingPeriod:
    try:
        return BillingPeriod(raw)
    except ValueError:
        raise ValidationError(
            f"Unknown billing period {raw!r}; choose monthly or yearly."
        ) from None


def parse_provider(raw: str) -> Provider:
    try:
        return Provider(raw)
    except ValueError:
        raise ValidationError(
            f"Unknown payment provider {raw!r}; choose lemonsqueezy or nowpayments."
        ) from None


class AmountMismatchError(ValidationError):
    """A payment's amount or currency is not the plan's price."""

    status_code = 422


def check_amount(expected: PlanPrice, amount: Decimal, currency: str) -> None:
    """Raise AmountMismatchError unless ``amount currency`` is exactly the plan's price."""
    if currency.strip().upper() != expected.currency:
        raise AmountMismatchError(
            f"Currency {currency!r} is not the price's currency {expected.currency}."
        )
    if amount != expected.amount:
        raise AmountMismatchError(
            f"Amount {amount} {currency} is not the {expected.plan.value} {expected.period.value}"
            f" price {expected.amount} {expected.currency}."
        )


def from_minor_units(units: int, exponent: int = 2) -> Decimal:
    """An amount in minor units (LemonSqueezy's cents) as a decimal: 1900 -> 19."""
    return Decimal(units).scaleb(-exponent).normalize() + 0


# --- events ----------------------------------------------------------------------------


class EventKind(StrEnum):
    PAYMENT = "payment"  # money moved (or is on its way) for a plan and period
    SUBSCRIPTION = "subscription"  # a provider subscription's state (dates, cancellation)
    REFUND = "refund"  # money went back: the plan ends now


class EventRejectedError(ValidationError):
    """A signed event that cannot be applied (unknown event, user, plan, amount); 422."""

    status_code = 422


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One verified webhook, in provider-neutral terms. ``event_id`` is unique per provider
    (the replay guard); ``occurred_at`` orders events of one object."""

    provider: Provider
    event_id: str
    event_type: str
    kind: EventKind
    occurred_at: datetime
    user_id: int | None
    plan: Plan | None = None
    period: BillingPeriod | None = None
    payment_ref: str | None = None
    subscription_ref: str | None = None
    invoice_ref: str | None = None
    status: PaymentStatus | None = None
    amount: Decimal | None = None
    currency: str | None = None
    #: Subscriptions: the provider's period end, whether it ends there, whether it has ended.
    period_end: datetime | None = None
    cancelled: bool = False
    expired: bool = False
    #: Payments that count toward a period (False: a subscription's first invoice, already
    #: counted as its order).
    credits: bool = True
    #: A partial payment: what is still missing, e.g. "0.0012 BTC".
    missing: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


#: Keys whose values never reach the database (raw events keep their shape, not these).
SECRET_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "secret",
        "signature",
        "token",
        "password",
        "card_last_four",
        "pay_address",
        "payin_extra_id",
        "urls",
    }
)
REDACTED = "[redacted]"


def strip_secrets(value: Any) -> Any:
    """A JSON value with every secret-looking key's value replaced (recursively)."""
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in SECRET_KEYS else strip_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [strip_secrets(item) for item in value]
    return value
