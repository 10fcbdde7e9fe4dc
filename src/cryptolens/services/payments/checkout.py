"""Starting a checkout: the chosen plan, period and provider, checked, and the provider's
page to send the user to. Nothing is stored: the account changes only when the provider's
signed webhook says the money arrived."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptolens.config import Settings
from cryptolens.domain.billing import parse_provider
from cryptolens.domain.errors import ValidationError
from cryptolens.services.payments.providers import (
    Checkout,
    CheckoutRequest,
    price_list,
    provider_for,
)

_COIN = re.compile(r"^[a-z0-9]{2,12}$")


@dataclass(frozen=True, slots=True)
class ReturnUrls:
    """Where the provider sends the user back, and where it posts events."""

    success: str
    cancel: str
    webhook: str


def start_checkout(
    settings: Settings,
    *,
    user_id: int,
    email: str,
    plan: str,
    period: str,
    provider: str,
    pay_currency: str | None,
    urls: ReturnUrls,
) -> Checkout:
    """Create a checkout for ``plan`` per ``period`` through ``provider``; raises
    ValidationError for a bad choice, PaymentsDisabledError (404) for a provider that is
    off, ProviderError (502) when the provider fails."""
    parse_provider(provider)
    chosen = provider_for(settings, provider)
    price = price_list(settings).price(plan, period)
    coin = (pay_currency or "").strip().lower() or None
    if coin is not None and not _COIN.match(coin):
        raise ValidationError("Choose a coin by its ticker, e.g. btc or usdttrc20.")
    return chosen.create_checkout(
        CheckoutRequest(
            user_id=user_id,
            email=email,
            price=price,
            success_url=urls.success,
            cancel_url=urls.cancel,
            webhook_url=urls.webhook,
            pay_currency=coin,
        )
    )
