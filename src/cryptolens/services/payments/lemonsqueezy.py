"""LemonSqueezy (cards): checkouts through its JSON:API, webhooks signed with ``X-Signature``
(the hex HMAC-SHA256 of the raw body under the webhook's signing secret).

The user id, plan and period travel in the checkout's ``custom`` data, which LemonSqueezy
returns in ``meta.custom_data`` of every event about that purchase. LemonSqueezy sends no
event id, so an event is named by what it says: event name, object type and id, and the
object's ``updated_at`` (a replay repeats all four; a new state changes the time)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from cryptolens.config import Settings
from cryptolens.domain.billing import (
    LEMONSQUEEZY_EVENTS,
    BillingPeriod,
    EventKind,
    EventRejectedError,
    PaymentStatus,
    Provider,
    ProviderEvent,
    from_minor_units,
    parse_period,
    parse_plan,
    strip_secrets,
)
from cryptolens.domain.plans import Plan
from cryptolens.services.payments.http import ProviderError, call_json
from cryptolens.services.payments.providers import (
    Checkout,
    CheckoutRequest,
    check_signature,
    header,
    load_object,
    parse_time,
    sha256,
)

SIGNATURE_HEADER = "X-Signature"
_MEDIA = "application/vnd.api+json"
_ORDER_STATUS = {
    "pending": PaymentStatus.PENDING,
    "paid": PaymentStatus.PAID,
    "failed": PaymentStatus.FAILED,
    "refunded": PaymentStatus.REFUNDED,
}


@dataclass(frozen=True, slots=True)
class LemonSqueezy:
    api_url: str
    api_key: str
    store_id: str
    webhook_secret: str
    variants: Mapping[tuple[Plan, BillingPeriod], str]
    timeout: float
    name: Provider = Provider.LEMONSQUEEZY

    @classmethod
    def from_settings(cls, settings: Settings) -> LemonSqueezy:
        assert settings.lemonsqueezy_api_key is not None
        assert settings.lemonsqueezy_webhook_secret is not None
        assert settings.lemonsqueezy_store_id is not None
        return cls(
            api_url=settings.lemonsqueezy_api_url,
            api_key=settings.lemonsqueezy_api_key.get_secret_value(),
            store_id=settings.lemonsqueezy_store_id,
            webhook_secret=settings.lemonsqueezy_webhook_secret.get_secret_value(),
            variants={
                (Plan(plan), BillingPeriod(period)): variant
                for (plan, period), variant in settings.lemonsqueezy_variants.items()
            },
            timeout=settings.payments_timeout_seconds,
        )

    def _headers(self) -> dict[str, str]:
        return {
            "Accept": _MEDIA,
            "Content-Type": _MEDIA,
            "Authorization": f"Bearer {self.api_key}",
        }

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        price = request.price
        custom = {
            "user_id": str(request.user_id),
            "plan": price.plan.value,
            "period": price.period.value,
        }
        payload = {
            "data": {
                "type": "checkouts",
                "attributes": {
                    "checkout_data": {"email": request.email, "custom": custom},
                    "product_options": {"redirect_url": request.success_url},
                },
                "relationships": {
                    "store": {"data": {"type": "stores", "id": self.store_id}},
                    "variant": {
                        "data": {
                            "type": "variants",
                            "id": self.variants[(price.plan, price.period)],
                        }
                    },
                },
            }
        }
        answer = call_json(
            "POST",
            f"{self.api_url}/v1/checkouts",
            headers=self._headers(),
            payload=payload,
            timeout=self.timeout,
        )
        data = answer.get("data") or {}
        url = (data.get("attributes") or {}).get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ProviderError("The payment provider sent no checkout address; try again.")
        return Checkout(url=url, reference=str(data.get("id", "")))

    def cancel_subscription(self, reference: str) -> datetime | None:
        answer = call_json(
            "DELETE",
            f"{self.api_url}/v1/subscriptions/{reference}",
            headers=self._headers(),
            timeout=self.timeout,
        )
        ends_at = ((answer.get("data") or {}).get("attributes") or {}).get("ends_at")
        return parse_time(ends_at, field="ends_at") if ends_at else None

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], *, now: datetime
    ) -> ProviderEvent:
        check_signature(
            self.webhook_secret,
            raw_body,
            header(headers, SIGNATURE_HEADER),
            sha256,
            SIGNATURE_HEADER,
        )
        return self.parse_event(load_object(raw_body))

    def _plan_of_variant(self, variant: Any) -> tuple[Plan, BillingPeriod]:
        for key, known in self.variants.items():
            if str(variant) == known:
                return key
        raise EventRejectedError(f"Variant {variant!r} is not one of the plans sold here.")

    def parse_event(self, body: dict[str, Any]) -> ProviderEvent:
        """The event a signed LemonSqueezy body describes; EventRejectedError otherwise."""
        try:
            meta, data = body["meta"], body["data"]
            name, kind, object_id = meta["event_name"], data["type"], str(data["id"])
            attributes: dict[str, Any] = data["attributes"]
            updated = attributes["updated_at"]
        except (KeyError, TypeError):
            raise EventRejectedError("The event lacks meta.event_name or data.") from None
        if name not in LEMONSQUEEZY_EVENTS:
            raise EventRejectedError(f"Unknown event {name!r}.")
        custom = meta.get("custom_data") or {}
        common: dict[str, Any] = {
            "provider": self.name,
            "event_id": f"{name}:{kind}:{object_id}:{updated}",
            "event_type": name,
            "occurred_at": parse_time(updated, field="updated_at"),
            "user_id": _user_id(custom),
            "raw": strip_secrets(body),
        }
        if kind == "orders":
            return self._order_event(common, object_id, attributes)
        if kind == "subscriptions":
            return self._subscription_event(common, object_id, attributes)
        if kind == "subscription-invoices":
            return _invoice_event(common, object_id, attributes, custom)
        raise EventRejectedError(f"Unknown object type {kind!r}.")

    def _order_event(
        self, common: dict[str, Any], object_id: str, attributes: dict[str, Any]
    ) -> ProviderEvent:
        item = attributes.get("first_order_item") or {}
        plan, period = self._plan_of_variant(item.get("variant_id"))
        refund = common["event_type"] == "order_refunded"
        status = (
            PaymentStatus.REFUNDED if refund else _ORDER_STATUS.get(str(attributes.get("status")))
        )
        if status is None:
            raise EventRejectedError(f"Unknown order status {attributes.get('status')!r}.")
        return ProviderEvent(
            **common,
            kind=EventKind.REFUND if refund else EventKind.PAYMENT,
            plan=plan,
            period=period,
            payment_ref=f"order:{object_id}",
            status=status,
            amount=_cents(attributes, "subtotal"),
            currency=_currency(attributes),
        )

    def _subscription_event(
        self, common: dict[str, Any], object_id: str, attributes: dict[str, Any]
    ) -> ProviderEvent:
        plan, period = self._plan_of_variant(attributes.get("variant_id"))
        status = attributes.get("status")
        cancelled = bool(attributes.get("cancelled")) or status == "cancelled"
        expired = status == "expired"
        end = attributes.get("ends_at") if cancelled or expired else attributes.get("renews_at")
        end = end or attributes.get("ends_at") or attributes.get("renews_at")
        return ProviderEvent(
            **common,
            kind=EventKind.SUBSCRIPTION,
            plan=plan,
            period=period,
            subscription_ref=object_id,
            period_end=parse_time(end, field="renews_at/ends_at") if end else None,
            cancelled=cancelled,
            expired=expired,
        )


def _invoice_event(
    common: dict[str, Any], object_id: str, attributes: dict[str, Any], custom: dict[str, Any]
) -> ProviderEvent:
    try:
        plan, period = parse_plan(str(custom["plan"])), parse_period(str(custom["period"]))
    except KeyError:
        raise EventRejectedError("The invoice's custom data names no plan and period.") from None
    return ProviderEvent(
        **common,
        kind=EventKind.PAYMENT,
        plan=plan,
        period=period,
        payment_ref=f"invoice:{object_id}",
        subscription_ref=str(attributes.get("subscription_id", "")) or None,
        status=PaymentStatus.PAID,
        amount=_cents(attributes, "subtotal"),
        currency=_currency(attributes),
        # The first invoice is the order that started the subscription: counted there.
        credits=attributes.get("billing_reason") != "initial",
    )


def _user_id(custom: Any) -> int | None:
    raw = custom.get("user_id") if isinstance(custom, dict) else None
    try:
        return int(str(raw)) if raw is not None else None
    except ValueError:
        return None


def _cents(attributes: dict[str, Any], name: str) -> Decimal:
    value = attributes.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise EventRejectedError(f"The event's {name} is not an amount in cents: {value!r}.")
    return from_minor_units(value)


def _currency(attributes: dict[str, Any]) -> str:
    value = attributes.get("currency")
    if not isinstance(value, str) or not value:
        raise EventRejectedError("The event names no currency.")
    return value.upper()
