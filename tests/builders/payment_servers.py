"""Local stand-ins for the payment providers: their APIs as aiohttp servers on 127.0.0.1, and
their webhook senders, signing events exactly as each provider documents.

- LemonSqueezy: ``POST /v1/checkouts`` (JSON:API) answers a checkout whose ``url`` is this
  server's ``/checkout/<id>`` page; ``DELETE /v1/subscriptions/<id>`` cancels. Its webhooks
  carry ``X-Signature``: the hex HMAC-SHA256 of the raw body under the signing secret.
- NOWPayments: ``POST /v1/invoice`` answers an ``invoice_url`` on this server. Its IPNs carry
  ``x-nowpayments-sig``: the hex HMAC-SHA512 of the body's JSON with keys sorted and no
  spaces. The body itself is sent unsorted and spaced, as a sender may, so a receiver that
  hashed the raw bytes would fail.

A checkout page has a "Pay" button (``POST /checkout/<id>/pay``): the server then sends the
events a real purchase causes to ``webhook_url`` and redirects to the checkout's return
address, so a browser test can go from the pricing page to a paid account.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from cryptolens.config import Settings
from tests.builders.notify_servers import Received, RecordingServer
from tests.builders.settings import make_settings

LS_SECRET = "ls-webhook-signing-secret-0123456789"
NP_SECRET = "np-ipn-secret-0123456789abcdef"
VARIANTS = {
    ("pro", "monthly"): "101",
    ("pro", "yearly"): "102",
    ("premium", "monthly"): "201",
    ("premium", "yearly"): "202",
}
_ids = itertools.count(1000)


def iso(moment: datetime) -> str:
    """LemonSqueezy's time format: ``2024-01-31T10:00:00.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- signing ---------------------------------------------------------------------------


def lemonsqueezy_signed(
    payload: dict[str, Any], secret: str = LS_SECRET
) -> tuple[bytes, dict[str, str]]:
    """The body LemonSqueezy sends and its headers (X-Event-Name, X-Signature)."""
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/json",
        "X-Event-Name": payload["meta"]["event_name"],
        "X-Signature": signature,
    }


def nowpayments_signed(
    payload: dict[str, Any], secret: str = NP_SECRET
) -> tuple[bytes, dict[str, str]]:
    """The IPN body (unsorted, spaced) and its x-nowpayments-sig over the sorted JSON."""
    body = json.dumps(payload, indent=1).encode()
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    signature = hmac.new(secret.encode(), canonical.encode(), hashlib.sha512).hexdigest()
    return body, {"Content-Type": "application/json", "x-nowpayments-sig": signature}


# --- LemonSqueezy events ---------------------------------------------------------------


def _ls_event(
    name: str, kind: str, object_id: str, attributes: dict[str, Any], custom: dict[str, Any]
) -> dict[str, Any]:
    return {
        "meta": {
            "test_mode": True,
            "event_name": name,
            "webhook_id": "wh-1",
            "custom_data": custom,
        },
        "data": {"type": kind, "id": object_id, "attributes": attributes, "relationships": {}},
    }


def custom_data(user_id: int, plan: str = "pro", period: str = "monthly") -> dict[str, str]:
    return {"user_id": str(user_id), "plan": plan, "period": period}


def ls_order(
    user_id: int,
    *,
    order_id: str = "5001",
    plan: str = "pro",
    period: str = "monthly",
    cents: int = 1900,
    currency: str = "USD",
    refunded: bool = False,
    at: datetime | None = None,
    variant: str | None = None,
) -> dict[str, Any]:
    """``order_created`` (or ``order_refunded``) for a purchase of ``plan`` per ``period``."""
    moment = at or datetime.now(UTC)
    attributes = {
        "store_id": 1,
        "identifier": f"ident-{order_id}",
        "user_email": "buyer@example.com",
        "currency": currency,
        "subtotal": cents,
        "total": cents,
        "tax": 0,
        "status": "refunded" if refunded else "paid",
        "refunded": refunded,
        "first_order_item": {"variant_id": int(variant or VARIANTS[(plan, period)])},
        "urls": {"receipt": "https://example.invalid/receipt?signature=secret"},
        "created_at": iso(moment),
        "updated_at": iso(moment),
    }
    name = "order_refunded" if refunded else "order_created"
    return _ls_event(name, "orders", order_id, attributes, custom_data(user_id, plan, period))


def ls_subscription(
    user_id: int,
    *,
    name: str = "subscription_created",
    subscription_id: str = "7001",
    plan: str = "pro",
    period: str = "monthly",
    status: str = "active",
    renews_at: datetime,
    ends_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """A subscription event; ``updated_at`` orders events of one subscription."""
    moment = updated_at or datetime.now(UTC)
    attributes = {
        "store_id": 1,
        "order_id": 5001,
        "variant_id": int(VARIANTS[(plan, period)]),
        "user_email": "buyer@example.com",
        "status": status,
        "cancelled": status == "cancelled",
        "renews_at": iso(renews_at),
        "ends_at": iso(ends_at) if ends_at else None,
        "created_at": iso(moment),
        "updated_at": iso(moment),
    }
    return _ls_event(
        name, "subscriptions", subscription_id, attributes, custom_data(user_id, plan, period)
    )


def ls_invoice(
    user_id: int,
    *,
    invoice_id: str = "9001",
    subscription_id: str = "7001",
    plan: str = "pro",
    period: str = "monthly",
    cents: int = 1900,
    billing_reason: str = "renewal",
    at: datetime | None = None,
) -> dict[str, Any]:
    """``subscription_payment_success`` for one subscription invoice."""
    moment = at or datetime.now(UTC)
    attributes = {
        "store_id": 1,
        "subscription_id": int(subscription_id),
        "billing_reason": billing_reason,
        "currency": "USD",
        "status": "paid",
        "subtotal": cents,
        "total": cents,
        "card_last_four": "4242",
        "created_at": iso(moment),
        "updated_at": iso(moment),
    }
    return _ls_event(
        "subscription_payment_success",
        "subscription-invoices",
        invoice_id,
        attributes,
        custom_data(user_id, plan, period),
    )


# --- NOWPayments IPNs ------------------------------------------------------------------


def np_ipn(
    user_id: int,
    *,
    status: str = "finished",
    payment_id: int = 4_000_001,
    plan: str = "pro",
    period: str = "monthly",
    price: float = 19,
    currency: str = "usd",
    pay_amount: float = 0.00031,
    actually_paid: float | None = None,
    updated_at: datetime | None = None,
    order_id: str | None = None,
) -> dict[str, Any]:
    """An IPN for one payment of an invoice created here (``order_id`` as the app builds it)."""
    moment = updated_at or datetime.now(UTC)
    paid = pay_amount if actually_paid is None else actually_paid
    return {
        "payment_id": payment_id,
        "invoice_id": 5_500_001,
        "payment_status": status,
        "pay_address": "bc1qexampleaddress",
        "price_amount": price,
        "price_currency": currency,
        "pay_amount": pay_amount,
        "actually_paid": paid,
        "pay_currency": "btc",
        "order_id": order_id or f"cl:{user_id}:{plan}:{period}:abcdef012345",
        "order_description": f"CryptoLens {plan} ({period})",
        "purchase_id": "6001",
        "outcome_amount": paid,
        "outcome_currency": "btc",
        "created_at": int((moment - timedelta(minutes=5)).timestamp() * 1000),
        "updated_at": int(moment.timestamp() * 1000),
    }


# --- the API servers -------------------------------------------------------------------


def post_webhook(url: str, body: bytes, headers: dict[str, str]) -> int:
    """Deliver one webhook over HTTP (the provider's sender); returns the status answered."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


@dataclass
class CheckoutRecord:
    id: str
    payload: dict[str, Any]
    paid: bool = False


class LemonSqueezyServer(RecordingServer):
    """LemonSqueezy's API: checkouts, subscription cancellation, and a checkout page."""

    def __init__(self) -> None:
        super().__init__()
        self.checkouts: dict[str, CheckoutRecord] = {}
        #: Where "Pay" sends the purchase's webhooks (the app's webhook URL).
        self.webhook_url: str | None = None

    def answer(self, received: Received) -> web.Response:
        parts = received.path.strip("/").split("/")
        if received.method == "POST" and received.path == "/v1/checkouts":
            return self._create(received)
        if received.method == "DELETE" and parts[:2] == ["v1", "subscriptions"]:
            return self._cancel(parts[2])
        if parts[0] == "checkout" and len(parts) == 2:
            return _pay_page(received.path)
        if parts[0] == "checkout" and len(parts) == 3 and received.method == "POST":
            return self._pay(parts[1])
        return web.json_response({"errors": [{"detail": "not found"}]}, status=404)

    def _create(self, received: Received) -> web.Response:
        if received.header("Authorization") in (None, "Bearer "):
            return web.json_response({"errors": [{"detail": "Unauthenticated."}]}, status=401)
        checkout_id = f"co-{next(_ids)}"
        self.checkouts[checkout_id] = CheckoutRecord(checkout_id, received.json)
        data = {
            "type": "checkouts",
            "id": checkout_id,
            "attributes": {"url": f"{self.url}/checkout/{checkout_id}"},
        }
        return web.json_response({"jsonapi": {"version": "1.0"}, "data": data}, status=201)

    def _cancel(self, subscription_id: str) -> web.Response:
        ends = datetime.now(UTC) + timedelta(days=20)
        attributes = {"status": "cancelled", "cancelled": True, "ends_at": iso(ends)}
        data = {"type": "subscriptions", "id": subscription_id, "attributes": attributes}
        return web.json_response({"data": data})

    def _pay(self, checkout_id: str) -> web.Response:
        record = self.checkouts.get(checkout_id)
        if record is None or self.webhook_url is None:
            return web.Response(status=404)
        attributes = record.payload["data"]["attributes"]
        custom = attributes["checkout_data"]["custom"]
        user_id, plan, period = int(custom["user_id"]), custom["plan"], custom["period"]
        now = datetime.now(UTC)
        renews = now + timedelta(days=366 if period == "yearly" else 31)
        number = next(_ids)
        for event in (
            ls_order(user_id, order_id=str(number), plan=plan, period=period, at=now),
            ls_subscription(
                user_id, subscription_id=str(number), plan=plan, period=period, renews_at=renews
            ),
        ):
            post_webhook(self.webhook_url, *lemonsqueezy_signed(event))
        record.paid = True
        redirect = attributes["product_options"]["redirect_url"]
        return web.Response(status=303, headers={"Location": redirect})


def _pay_page(path: str) -> web.Response:
    html = (
        "<!doctype html><title>Local checkout</title><h1>Local checkout</h1>"
        f'<form method="post" action="{path}/pay"><button id="pay">Pay</button></form>'
    )
    return web.Response(text=html, content_type="text/html")


class NowPaymentsServer(RecordingServer):
    """NOWPayments' API: invoices (checked for the API key)."""

    def __init__(self) -> None:
        super().__init__()
        self.invoices: list[dict[str, Any]] = []

    def answer(self, received: Received) -> web.Response:
        if received.method == "POST" and received.path == "/v1/invoice":
            if not received.header("x-api-key"):
                return web.json_response({"message": "Invalid api key"}, status=403)
            self.invoices.append(received.json)
            invoice_id = str(next(_ids))
            return web.json_response(
                {
                    "id": invoice_id,
                    "order_id": received.json.get("order_id"),
                    "price_amount": str(received.json.get("price_amount")),
                    "invoice_url": f"{self.url}/invoice/{invoice_id}",
                }
            )
        return web.json_response({"message": "not found"}, status=404)


def with_payments(settings: Settings, ls: LemonSqueezyServer, np: NowPaymentsServer) -> Settings:
    """``settings`` with both providers on, at the local servers."""
    return make_settings(**(settings.model_dump() | payment_settings(ls, np)))


def payment_settings(ls: LemonSqueezyServer, np: NowPaymentsServer) -> dict[str, object]:
    """Settings that turn both providers on, their API base URLs at the local servers."""
    return {
        "lemonsqueezy_api_url": ls.url,
        "lemonsqueezy_api_key": "ls-test-api-key",
        "lemonsqueezy_store_id": "1",
        "lemonsqueezy_webhook_secret": LS_SECRET,
        "lemonsqueezy_variant_pro_monthly": VARIANTS[("pro", "monthly")],
        "lemonsqueezy_variant_pro_yearly": VARIANTS[("pro", "yearly")],
        "lemonsqueezy_variant_premium_monthly": VARIANTS[("premium", "monthly")],
        "lemonsqueezy_variant_premium_yearly": VARIANTS[("premium", "yearly")],
        "nowpayments_api_url": np.url,
        "nowpayments_api_key": "np-test-api-key",
        "nowpayments_ipn_secret": NP_SECRET,
        # The checkout and invoice pages are on the servers themselves.
        "payment_page_origins": (ls.url, np.url),
        "price_pro_monthly": "19",
        "price_pro_yearly": "190",
        "price_premium_monthly": "49",
        "price_premium_yearly": "490",
        "plan_currency": "USD",
    }
