from __future__ import annotations

import hashlib
import hmac

from cryptolens.notify.webhook import sign, verify

SECRET = "a-webhook-secret-of-some-length"
BODY = b'{"title":"BTC/USDT long \xc2\xb7 3 TF"}'
NOW = 1_700_000_000


def test_a_signature_is_the_documented_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == "sha256=" + expected


def test_a_signed_body_verifies() -> None:
    assert verify(SECRET, str(NOW), sign(SECRET, NOW, BODY), BODY, now=NOW + 10)


def test_a_tampered_body_or_another_secret_does_not_verify() -> None:
    signature = sign(SECRET, NOW, BODY)
    assert not verify(SECRET, str(NOW), signature, BODY + b" ", now=NOW)
    assert not verify(SECRET + "x", str(NOW), signature, BODY, now=NOW)
    assert not verify(SECRET, str(NOW + 1), signature, BODY, now=NOW)


def test_a_stale_or_future_timestamp_does_not_verify() -> None:
    old = NOW - 301
    assert not verify(SECRET, str(old), sign(SECRET, old, BODY), BODY, now=NOW)
    future = NOW + 301
    assert not verify(SECRET, str(future), sign(SECRET, future, BODY), BODY, now=NOW)
    assert verify(SECRET, str(old), sign(SECRET, old, BODY), BODY, now=NOW, tolerance=600)


def test_missing_or_garbled_headers_do_not_verify() -> None:
    signature = sign(SECRET, NOW, BODY)
    assert not verify(SECRET, None, signature, BODY, now=NOW)
    assert not verify(SECRET, str(NOW), None, BODY, now=NOW)
    assert not verify(SECRET, "yesterday", signature, BODY, now=NOW)
    assert not verify(SECRET, str(NOW), "sha256=ünïcode", BODY, now=NOW)
