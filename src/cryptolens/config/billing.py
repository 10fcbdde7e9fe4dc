"""Settings of plans and of selling them (README "Payments"): prices and the two providers.
A provider is on once its key, secret and ids are all set; secrets are SecretStr (never in a
log or repr)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from cryptolens.config.checks import blank_to_none, service_url, split_csv

#: A CSP source naming one origin (or a host's subdomains): nothing that could end the
#: directive or add another.
_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?")


class BillingSettings(BaseModel):
    """Plans, prices and the payment providers (a group of ``Settings``)."""

    # Plans (Free, Pro, Premium) and their limits; false: every account gets everything
    # (a one-person install needs no tiers).
    plans_enabled: bool = Field(default=True, alias="PLANS_ENABLED")

    # Selling the plans (README "Payments"): prices, and the two providers. A provider is on
    # once its key, secret and ids are all set; secrets are SecretStr (never in a log or repr).
    plan_currency: str = Field(default="USD", alias="PLAN_CURRENCY")
    price_pro_monthly: Decimal = Field(default=Decimal("19"), gt=0, alias="PRICE_PRO_MONTHLY")
    price_pro_yearly: Decimal = Field(default=Decimal("190"), gt=0, alias="PRICE_PRO_YEARLY")
    price_premium_monthly: Decimal = Field(
        default=Decimal("49"), gt=0, alias="PRICE_PREMIUM_MONTHLY"
    )
    price_premium_yearly: Decimal = Field(
        default=Decimal("490"), gt=0, alias="PRICE_PREMIUM_YEARLY"
    )
    lemonsqueezy_api_url: str = Field(
        default="https://api.lemonsqueezy.com", alias="LEMONSQUEEZY_API_URL"
    )
    lemonsqueezy_api_key: SecretStr | None = Field(default=None, alias="LEMONSQUEEZY_API_KEY")
    lemonsqueezy_store_id: str | None = Field(default=None, alias="LEMONSQUEEZY_STORE_ID")
    lemonsqueezy_webhook_secret: SecretStr | None = Field(
        default=None, alias="LEMONSQUEEZY_WEBHOOK_SECRET"
    )
    lemonsqueezy_variant_pro_monthly: str | None = Field(
        default=None, alias="LEMONSQUEEZY_VARIANT_PRO_MONTHLY"
    )
    lemonsqueezy_variant_pro_yearly: str | None = Field(
        default=None, alias="LEMONSQUEEZY_VARIANT_PRO_YEARLY"
    )
    lemonsqueezy_variant_premium_monthly: str | None = Field(
        default=None, alias="LEMONSQUEEZY_VARIANT_PREMIUM_MONTHLY"
    )
    lemonsqueezy_variant_premium_yearly: str | None = Field(
        default=None, alias="LEMONSQUEEZY_VARIANT_PREMIUM_YEARLY"
    )
    nowpayments_api_url: str = Field(
        default="https://api.nowpayments.io", alias="NOWPAYMENTS_API_URL"
    )
    nowpayments_api_key: SecretStr | None = Field(default=None, alias="NOWPAYMENTS_API_KEY")
    nowpayments_ipn_secret: SecretStr | None = Field(default=None, alias="NOWPAYMENTS_IPN_SECRET")
    # The providers' payment pages the checkout redirects the buyer to: the pages with buy
    # buttons allow these in their CSP form-action (a browser checks a form's redirect too).
    payment_page_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("https://*.lemonsqueezy.com", "https://nowpayments.io"),
        alias="PAYMENT_PAGE_ORIGINS",
    )
    payments_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, alias="PAYMENTS_TIMEOUT_SECONDS"
    )

    @field_validator(
        "lemonsqueezy_api_key",
        "lemonsqueezy_store_id",
        "lemonsqueezy_webhook_secret",
        "lemonsqueezy_variant_pro_monthly",
        "lemonsqueezy_variant_pro_yearly",
        "lemonsqueezy_variant_premium_monthly",
        "lemonsqueezy_variant_premium_yearly",
        "nowpayments_api_key",
        "nowpayments_ipn_secret",
        mode="before",
    )
    @classmethod
    def _blank_provider_is_none(cls, value: Any) -> Any:
        return blank_to_none(value)

    @field_validator("lemonsqueezy_api_url", "nowpayments_api_url")
    @classmethod
    def _check_provider_url(cls, value: str) -> str:
        return service_url(value)

    @field_validator("payment_page_origins", mode="before")
    @classmethod
    def _origins_csv(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("plan_currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise ValueError(f"must be a three-letter currency code such as USD (got {value!r})")
        return code

    @field_validator(
        "price_pro_monthly", "price_pro_yearly", "price_premium_monthly", "price_premium_yearly"
    )
    @classmethod
    def _check_price(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            raise ValueError("must be a price with at most two decimals, e.g. 19 or 19.99")
        return value

    @field_validator("payment_page_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin like https://pay.example.com or "
                    "https://*.example.com (scheme, host, optional port; no path)"
                )
        return value

    @property
    def lemonsqueezy_variants(self) -> dict[tuple[str, str], str]:
        """LemonSqueezy variant id per (plan, period), for those set."""
        found = {
            ("pro", "monthly"): self.lemonsqueezy_variant_pro_monthly,
            ("pro", "yearly"): self.lemonsqueezy_variant_pro_yearly,
            ("premium", "monthly"): self.lemonsqueezy_variant_premium_monthly,
            ("premium", "yearly"): self.lemonsqueezy_variant_premium_yearly,
        }
        return {key: variant for key, variant in found.items() if variant}

    @property
    def lemonsqueezy_enabled(self) -> bool:
        """Card checkout is on: plans are sold, and the key, store, secret and every variant
        are set."""
        return (
            self.plans_enabled
            and self.lemonsqueezy_api_key is not None
            and self.lemonsqueezy_store_id is not None
            and self.lemonsqueezy_webhook_secret is not None
            and len(self.lemonsqueezy_variants) == 4
        )

    @property
    def nowpayments_enabled(self) -> bool:
        """Crypto checkout is on: plans are sold, and the API key and IPN secret are set."""
        return (
            self.plans_enabled
            and self.nowpayments_api_key is not None
            and self.nowpayments_ipn_secret is not None
        )

    @property
    def payments_enabled(self) -> bool:
        return self.lemonsqueezy_enabled or self.nowpayments_enabled
