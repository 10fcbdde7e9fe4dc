from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cryptolens.notify.channel import Delivered, Message, Permanent, Retryable
from cryptolens.notify.send import (
    MAX_BODY_BYTES,
    MAX_RETRY_AFTER,
    classify_status,
    fit,
    parse_retry_after,
    truncate_utf8,
)

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def test_a_10_kb_body_is_cut_to_valid_utf8_within_the_limit() -> None:
    body = "€😀a" * 1400  # 8 bytes each: ~11 KB, multi-byte characters at every cut
    cut = fit(Message(title="t", body=body)).body
    encoded = cut.encode()
    assert len(encoded) <= MAX_BODY_BYTES
    assert encoded.decode() == cut
    assert cut.endswith("…")
    assert body.startswith(cut[:-1])
    assert len(encoded) > MAX_BODY_BYTES - 8  # cut at the limit, not far before it


def test_a_short_text_is_left_alone() -> None:
    assert truncate_utf8("BTC/USDT long · 3 TF") == "BTC/USDT long · 3 TF"
    assert truncate_utf8("x" * MAX_BODY_BYTES) == "x" * MAX_BODY_BYTES


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("Sun, 10 Mar 2024 12:01:30 GMT", 90.0),
        ("Sun, 10 Mar 2024 11:00:00 GMT", 0.0),  # a date in the past: now
        ("86400", MAX_RETRY_AFTER),
        ("-5", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date_and_capped(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, Delivered),
        (204, Delivered),
        (301, Permanent),
        (400, Permanent),
        (401, Permanent),
        (403, Permanent),
        (404, Permanent),
        (410, Permanent),
        (413, Permanent),
        (408, Retryable),
        (429, Retryable),
        (500, Retryable),
        (503, Retryable),
    ],
)
def test_http_statuses_are_classified(status: int, kind: type) -> None:
    assert isinstance(classify_status(status, {}), kind)


def test_a_429_carries_its_retry_after() -> None:
    assert classify_status(429, {"Retry-After": "30"}) == Retryable("HTTP 429", 30.0)
