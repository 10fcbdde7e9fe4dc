"""Webhook signatures: HMAC-SHA256 over ``"<timestamp>." + body`` with the channel's secret.

A receiver recomputes the HMAC from the ``X-CryptoLens-Timestamp`` header and the raw body,
compares it in constant time with ``X-CryptoLens-Signature`` and refuses old timestamps (a
captured request cannot be replayed later). README "Notifications" shows a receiver."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-CryptoLens-Timestamp"
SIGNATURE_HEADER = "X-CryptoLens-Signature"
#: Seconds a signed request stays acceptable either side of the receiver's clock.
DEFAULT_TOLERANCE = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` + the hex HMAC-SHA256 of ``f"{timestamp}."`` followed by ``body``."""
    mac = hmac.new(secret.encode(), f"{int(timestamp)}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether the headers sign ``body`` with ``secret`` within ``tolerance`` s of ``now``."""
    if not timestamp_header or not signature_header:
        return False
    try:
        timestamp = int(timestamp_header.strip())
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature_header.strip().encode())
