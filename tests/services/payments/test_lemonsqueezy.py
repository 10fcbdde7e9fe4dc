from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from cryptolens.domain.billing import (
    BillingPeriod,
    EventKind,
    EventRejectedError,
    PaymentStatus,
    PlanPrice,
)
from cryptolens.domain.plans import Plan
from cryptolens.services.payments.http import ProviderError
from cryptolens.services.payments.lemonsqueezy import LemonSqueezy
from cryptolens.services.payments.providers import CheckoutRequest, SignatureError
from tests.builders.payment_servers import (
    LS_SECRET,
    VARIANTS,
    LemonSqueezyServer,
    lemonsqueezy_signed,
    ls_invoice,
    ls_order,
    ls_subscription,
)

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def provider(url: str = "http://127.0.0.1:9") -> LemonSqueezy:
    return LemonSqueezy(
        api_url=url,
        api_key="key",
        store_id="1",
        webhook_secret=LS_SECRET,
        variants={(Plan(p), BillingPeriod(q)): v for (p, q), v in VARIANTS.items()},
        timeout=2,
    )


@pytest.fixture
def server() -> Iterator[LemonSqueezyServer]:
    running = LemonSqueezyServer().start()
    yield running
    running.stop()


def test_an_order_is_a_payment_named_by_event_object_and_time() -> None:
    body, headers = lemonsqueezy_signed(ls_order(3, plan="premium", cents=4900, at=NOW))
    event = provider().verify_webhook(body, headers, now=NOW)
    assert event.kind is EventKind.PAYMENT
    assert (event.plan, event.period, event.user_id) == (Plan.PREMIUM, BillingPeriod.MONTHLY, 3)
    assert (event.amount, event.currency, event.status) == (
        Decimal("49"),
        "USD",
        PaymentStatus.PAID,
    )
    assert event.event_id == "order_created:orders:5001:2025-03-01T00:00:00.000000Z"
    assert event.raw["data"]["attributes"]["urls"] == "[redacted]"


def test_a_cancelled_subscription_ends_at_ends_at() -> None:
    end = NOW + timedelta(days=9)
    payload = ls_subscription(
        3, name="subscription_cancelled", status="cancelled", renews_at=end, ends_at=end
    )
    event = provider().verify_webhook(*lemonsqueezy_signed(payload), now=NOW)
    assert (event.kind, event.cancelled, event.period_end) == (EventKind.SUBSCRIPTION, True, end)


def test_the_first_invoice_does_not_credit_and_a_renewal_does() -> None:
    first = provider().verify_webhook(
        *lemonsqueezy_signed(ls_invoice(3, billing_reason="initial")), now=NOW
    )
    renewal = provider().verify_webhook(*lemonsqueezy_signed(ls_invoice(3)), now=NOW)
    assert (first.credits, renewal.credits) == (False, True)
    assert renewal.subscription_ref == "7001"


@pytest.mark.parametrize("fault", ["tampered", "wrong secret", "missing", "empty"])
def test_bad_signatures_raise(fault: str) -> None:
    body, headers = lemonsqueezy_signed(ls_order(3))
    if fault == "tampered":
        body = body[:-2] + b" }"
    elif fault == "wrong secret":
        headers = lemonsqueezy_signed(ls_order(3), "other")[1]
    elif fault == "missing":
        headers = {}
    else:
        headers = {"X-Signature": ""}
    with pytest.raises(SignatureError):
        provider().verify_webhook(body, headers, now=NOW)


def test_unknown_events_and_variants_are_rejected() -> None:
    payload = ls_order(3)
    payload["meta"]["event_name"] = "affiliate_activated"
    with pytest.raises(EventRejectedError, match="Unknown event"):
        provider().verify_webhook(*lemonsqueezy_signed(payload), now=NOW)
    with pytest.raises(EventRejectedError, match="Variant"):
        provider().verify_webhook(*lemonsqueezy_signed(ls_order(3, variant="999")), now=NOW)


def _request() -> CheckoutRequest:
    price = PlanPrice(Plan.PRO, BillingPeriod.YEARLY, Decimal("190"), "USD")
    return CheckoutRequest(
        user_id=3,
        email="a@example.com",
        price=price,
        success_url="http://app/return?outcome=success",
        cancel_url="http://app/return?outcome=cancel",
        webhook_url="http://app/payments/webhooks/lemonsqueezy",
    )


def test_checkout_and_cancellation_talk_to_the_api(server: LemonSqueezyServer) -> None:
    checkout = provider(server.url).create_checkout(_request())
    assert checkout.url == f"{server.url}/checkout/{checkout.reference}"
    ends = provider(server.url).cancel_subscription("7001")
    assert ends is not None
    assert ends > datetime.now(UTC)
    assert [r.method for r in server.requests] == ["POST", "DELETE"]


def test_an_api_error_or_an_unreachable_api_is_a_provider_error(server: LemonSqueezyServer) -> None:
    server.fail_next(422)
    with pytest.raises(ProviderError, match="422"):
        provider(server.url).create_checkout(_request())
    with pytest.raises(ProviderError, match="reached"):
        provider("http://127.0.0.1:9").create_checkout(_request())
