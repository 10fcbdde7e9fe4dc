"""NOWPayments (crypto): invoices through its API, IPN callbacks signed with
``x-nowpayments-sig`` (the hex HMAC-SHA512, under the IPN secret, of the body's JSON
re-serialised with keys sorted at every level and no spaces, as JavaScript's
``JSON.stringify`` writes it).

An invoice's ``order_id`` carries the user, plan and period (``cl:<user>:<plan>:<period>:
<nonce>``). IPNs have no event id: a payment's status changes are its events, so
``payment_id:payment_status`` names one. Only ``finished`` credits a plan."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptolens.config import Settings
from cryptolens.domain.billing import (
    NOWPAYMENTS_STATUS,
    BillingPeriod,
    EventKind,
    EventRejectedError,
    PaymentStatus,
    Provider,
    ProviderEvent,
    parse_period,
    parse_plan,
    strip_secrets,
)
from cryptolens.domain.errors import ValidationError
from cryptolens.domain.plans import Plan
from cryptolens.services.payments.http import ProviderError, call_json
from cryptolens.services.payments.providers import (
    Checkout,
    CheckoutRequest,
    SignatureError,
    check_signature,
    header,
    load_object,
    parse_time,
    sha512,
)

SIGNATURE_HEADER = "x-nowpayments-sig"
ORDER_PREFIX = "cl"


def order_id(user_id: int, plan: Plan, period: BillingPeriod) -> str:
    """An invoice's order id: who pays for what, and a nonce (each checkout is its own)."""
    return f"{ORDER_PREFIX}:{user_id}:{plan.value}:{period.value}:{secrets.token_hex(6)}"


def parse_order_id(raw: Any) -> tuple[int, Plan, BillingPeriod]:
    parts = raw.split(":") if isinstance(raw, str) else []
    if len(parts) != 5 or parts[0] != ORDER_PREFIX or not parts[1].isdigit():
        raise EventRejectedError(f"Order {raw!r} was not created here.")
    try:
        return int(parts[1]), parse_plan(parts[2]), parse_period(parts[3])
    except ValidationError as error:
        raise EventRejectedError(str(error)) from None


def _js_numbers(value: Any) -> Any:
    """Floats as JavaScript writes them: a whole number without ``.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {key: _js_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_js_numbers(item) for item in value]
    return value


def signed_message(body: dict[str, Any]) -> bytes:
    """What NOWPayments signs: the body's JSON with sorted keys, compact, not ASCII-escaped."""
    return json.dumps(
        _js_numbers(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


@dataclass(frozen=True, slots=True)
class NowPayments:
    api_url: str
    api_key: str
    ipn_secret: str
    timeout: float
    name: Provider = Provider.NOWPAYMENTS

    @classmethod
    def from_settings(cls, settings: Settings) -> NowPayments:
        assert settings.nowpayments_api_key is not None
        assert settings.nowpayments_ipn_secret is not None
        return cls(
            api_url=settings.nowpayments_api_url,
            api_key=settings.nowpayments_api_key.get_secret_value(),
            ipn_secret=settings.nowpayments_ipn_secret.get_secret_value(),
            timeout=settings.payments_timeout_seconds,
        )

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        price = request.price
        payload: dict[str, Any] = {
            # Their API takes a JSON number; two decimals are exact in a double's repr.
            "price_amount": float(price.amount),
            "price_currency": price.currency.lower(),
            "order_id": order_id(request.user_id, price.plan, price.period),
            "order_description": f"CryptoLens {price.plan.value} ({price.period.value})",
            "ipn_callback_url": request.webhook_url,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        if request.pay_currency:
            payload["pay_currency"] = request.pay_currency.lower()
        answer = call_json(
            "POST",
            f"{self.api_url}/v1/invoice",
            headers={"x-api-key": self.api_key, "Content-Type": "application/json"},
            payload=payload,
            timeout=self.timeout,
        )
        url = answer.get("invoice_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ProviderError("The payment provider sent no invoice address; try again.")
        return Checkout(url=url, reference=str(answer.get("id", "")))

    def cancel_subscription(self, reference: str) -> datetime | None:
        return None  # an invoice is paid once: nothing renews by itself

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], *, now: datetime
    ) -> ProviderEvent:
        given = header(headers, SIGNATURE_HEADER)
        if not given:  # unsigned: refused as such, whatever the body
            raise SignatureError(f"missing {SIGNATURE_HEADER} header")
        body = load_object(raw_body)
        check_signature(self.ipn_secret, signed_message(body), given, sha512, SIGNATURE_HEADER)
        exact = load_object(raw_body, parse_float=Decimal)
        return parse_event(exact, strip_secrets(body), now=now)


def _decimal(body: dict[str, Any], name: str) -> Decimal:
    value = body.get(name)
    try:
        amount = Decimal(str(value)) if not isinstance(value, bool) and value is not None else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise EventRejectedError(f"The event's {name} is not an amount: {value!r}.")
    return amount


def parse_event(body: dict[str, Any], raw: dict[str, Any], *, now: datetime) -> ProviderEvent:
    """The event a signed IPN body describes (numbers already decimals)."""
    payment_id, name = body.get("payment_id"), body.get("payment_status")
    if payment_id in (None, "") or not isinstance(name, str):
        raise EventRejectedError("The event lacks payment_id or payment_status.")
    status = NOWPAYMENTS_STATUS.get(name)
    if status is None:
        raise EventRejectedError(f"Unknown payment status {name!r}.")
    user_id, plan, period = parse_order_id(body.get("order_id"))
    updated = body.get("updated_at")
    missing = None
    if status is PaymentStatus.PARTIAL:
        short = _decimal(body, "pay_amount") - _decimal(body, "actually_paid")
        missing = f"{short.normalize():f} {str(body.get('pay_currency', '')).upper()}".strip()
    invoice = body.get("invoice_id")
    return ProviderEvent(
        provider=Provider.NOWPAYMENTS,
        event_id=f"{payment_id}:{name}",
        event_type=name,
        kind=EventKind.REFUND if status is PaymentStatus.REFUNDED else EventKind.PAYMENT,
        occurred_at=parse_time(updated, field="updated_at") if updated is not None else now,
        user_id=user_id,
        plan=plan,
        period=period,
        payment_ref=str(payment_id),
        invoice_ref=str(invoice) if invoice not in (None, "") else None,
        status=status,
        amount=_decimal(body, "price_amount"),
        currency=str(body.get("price_currency", "")).upper(),
        missing=missing,
        raw=raw,
    )
