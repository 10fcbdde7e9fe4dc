"""The provider interface, its errors, and the providers and prices the settings describe."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptolens.config import Settings
from cryptolens.domain.billing import (
    BillingPeriod,
    EventRejectedError,
    PlanPrice,
    PriceList,
    Provider,
    ProviderEvent,
)
from cryptolens.domain.errors import CryptoLensError, ValidationError
from cryptolens.domain.plans import Plan


class SignatureError(CryptoLensError):
    """A webhook's signature is missing or wrong: 401, stored nowhere."""

    status_code = 401


class PaymentsDisabledError(CryptoLensError):
    """Checkout through this provider is not configured (or plans are not sold)."""

    status_code = 404


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """What a checkout needs: who pays, for what, and where the provider sends them back."""

    user_id: int
    email: str
    price: PlanPrice
    success_url: str
    cancel_url: str
    #: Where the provider posts its events (NOWPayments takes it per invoice).
    webhook_url: str
    #: The coin a NOWPayments invoice asks for (None: the payer chooses).
    pay_currency: str | None = None


@dataclass(frozen=True, slots=True)
class Checkout:
    """The provider's page the user is sent to, and the provider's id of it."""

    url: str
    reference: str


class PaymentProvider(Protocol):
    @property
    def name(self) -> Provider: ...

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """Create a checkout (or invoice) at the provider; raises ProviderError."""
        ...

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], *, now: datetime
    ) -> ProviderEvent:
        """The event in ``raw_body`` once its signature checks out; raises SignatureError,
        or EventRejectedError / ValidationError for a signed event that cannot be used."""
        ...

    def cancel_subscription(self, reference: str) -> datetime | None:
        """Stop renewing a provider subscription at its period end; returns that end (None:
        the provider has nothing recurring)."""
        ...


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def check_signature(
    secret: str, message: bytes, given: str | None, digest: Callable[[], Any], header_name: str
) -> None:
    """Raise SignatureError unless ``given`` is the hex HMAC of ``message`` under ``secret``
    (compared in constant time)."""
    if not given:
        raise SignatureError(f"missing {header_name} header")
    expected = hmac.new(secret.encode(), message, digest).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode("ascii", "replace")):
        raise SignatureError(f"{header_name} does not match the body")


def sha256() -> Any:
    return hashlib.sha256()


def sha512() -> Any:
    return hashlib.sha512()


def load_object(raw_body: bytes, **options: Any) -> dict[str, Any]:
    """The JSON object in ``raw_body``; ValidationError for anything else."""
    try:
        found = json.loads(raw_body, **options)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("The body is not valid JSON.") from None
    if not isinstance(found, dict):
        raise ValidationError("The body is not a JSON object.")
    return found


def parse_time(value: Any, *, field: str) -> datetime:
    """An ISO 8601 time or epoch milliseconds, as an aware UTC datetime."""
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    raise EventRejectedError(f"The event's {field} is not a time: {value!r}.")


def price_list(settings: Settings) -> PriceList:
    """The plan prices in the settings."""
    return PriceList(
        settings.plan_currency,
        {
            (Plan.PRO, BillingPeriod.MONTHLY): settings.price_pro_monthly,
            (Plan.PRO, BillingPeriod.YEARLY): settings.price_pro_yearly,
            (Plan.PREMIUM, BillingPeriod.MONTHLY): settings.price_premium_monthly,
            (Plan.PREMIUM, BillingPeriod.YEARLY): settings.price_premium_yearly,
        },
    )


def configured_providers(settings: Settings) -> dict[Provider, PaymentProvider]:
    """The providers these settings turn on (none with PLANS_ENABLED=false)."""
    # Imported here: each provider module imports this one for the interface.
    from cryptolens.services.payments.lemonsqueezy import LemonSqueezy
    from cryptolens.services.payments.nowpayments import NowPayments

    found: dict[Provider, PaymentProvider] = {}
    if settings.lemonsqueezy_enabled:
        found[Provider.LEMONSQUEEZY] = LemonSqueezy.from_settings(settings)
    if settings.nowpayments_enabled:
        found[Provider.NOWPAYMENTS] = NowPayments.from_settings(settings)
    return found


def provider_for(settings: Settings, name: str) -> PaymentProvider:
    """The configured provider ``name``; PaymentsDisabledError when it is off."""
    for provider, found in configured_providers(settings).items():
        if provider.value == name:
            return found
    raise PaymentsDisabledError(f"Payments through {name} are not available.")
