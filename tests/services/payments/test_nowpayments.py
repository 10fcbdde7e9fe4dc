from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cryptolens.domain.billing import EventKind, EventRejectedError, PaymentStatus
from cryptolens.domain.errors import ValidationError
from cryptolens.services.payments.nowpayments import NowPayments, signed_message
from cryptolens.services.payments.providers import SignatureError
from tests.builders.payment_servers import NP_SECRET, nowpayments_signed, np_ipn

NOW = datetime(2025, 3, 1, tzinfo=UTC)
PROVIDER = NowPayments(api_url="http://127.0.0.1:9", api_key="k", ipn_secret=NP_SECRET, timeout=1)


def test_the_signature_covers_the_sorted_compact_json_not_the_bytes_as_sent() -> None:
    body, headers = nowpayments_signed(np_ipn(7))
    assert b"\n" in body  # sent spaced and unsorted
    event = PROVIDER.verify_webhook(body, headers, now=NOW)
    assert (event.user_id, event.status, event.kind) == (7, PaymentStatus.PAID, EventKind.PAYMENT)
    assert event.event_id == "4000001:finished"
    assert event.amount == Decimal("19")


def test_nested_keys_unicode_and_whole_floats_are_serialised_as_javascript_does() -> None:
    body = {"b": 1.0, "a": {"z": "é", "y": [2.5, 3.0]}}
    assert signed_message(body) == '{"a":{"y":[2.5,3],"z":"é"},"b":1}'.encode()


@pytest.mark.parametrize("fault", ["tampered", "wrong secret", "missing", "not hex"])
def test_bad_signatures_raise(fault: str) -> None:
    body, headers = nowpayments_signed(np_ipn(7))
    if fault == "tampered":
        body = body.replace(b'"finished"', b'"finishet"')
    elif fault == "wrong secret":
        headers = nowpayments_signed(np_ipn(7), "not-the-secret")[1]
    elif fault == "missing":
        headers = {}
    else:
        headers = {"x-nowpayments-sig": "é" * 128}
    with pytest.raises(SignatureError):
        PROVIDER.verify_webhook(body, headers, now=NOW)


def test_a_partial_payment_names_the_missing_amount_in_the_coin() -> None:
    body, headers = nowpayments_signed(
        np_ipn(7, status="partially_paid", pay_amount=0.0005, actually_paid=0.00035)
    )
    event = PROVIDER.verify_webhook(body, headers, now=NOW)
    assert (event.status, event.missing) == (PaymentStatus.PARTIAL, "0.00015 BTC")


def test_amounts_are_read_as_exact_decimals() -> None:
    body, headers = nowpayments_signed(np_ipn(7, price=19.99))
    assert PROVIDER.verify_webhook(body, headers, now=NOW).amount == Decimal("19.99")


def test_a_signed_body_that_is_not_json_is_a_validation_error() -> None:
    body = b"payment_id=1"
    signature = hmac.new(NP_SECRET.encode(), body, hashlib.sha512).hexdigest()
    with pytest.raises(ValidationError, match="JSON"):
        PROVIDER.verify_webhook(body, {"x-nowpayments-sig": signature}, now=NOW)


def test_an_order_not_created_here_is_rejected() -> None:
    payload = np_ipn(7, order_id="shop-order-17")
    body, headers = nowpayments_signed(payload)
    with pytest.raises(EventRejectedError, match="not created here"):
        PROVIDER.verify_webhook(body, headers, now=NOW)
    assert json.loads(body)["order_id"] == "shop-order-17"
