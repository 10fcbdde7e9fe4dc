from __future__ import annotations

import pytest

from cryptolens.domain.errors import ValidationError
from cryptolens.services.payments.checkout import ReturnUrls, start_checkout
from cryptolens.services.payments.providers import PaymentsDisabledError, configured_providers
from tests.builders.settings import make_settings

URLS = ReturnUrls(success="http://app/s", cancel="http://app/c", webhook="http://app/w")


@pytest.mark.parametrize("provider", ["lemonsqueezy", "nowpayments"])
def test_an_unconfigured_provider_is_not_available(provider: str) -> None:
    settings = make_settings()
    assert configured_providers(settings) == {}
    with pytest.raises(PaymentsDisabledError, match=provider):
        start_checkout(
            settings,
            user_id=1,
            email="a@example.com",
            plan="pro",
            period="monthly",
            provider=provider,
            pay_currency=None,
            urls=URLS,
        )


def test_an_unknown_provider_is_a_validation_error_before_anything_else() -> None:
    with pytest.raises(ValidationError, match="provider"):
        start_checkout(
            make_settings(),
            user_id=1,
            email="a@example.com",
            plan="gold",
            period="monthly",
            provider="stripe",
            pay_currency=None,
            urls=URLS,
        )
