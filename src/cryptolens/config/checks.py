"""Checks shared by the settings' groups: the value rules more than one setting follows,
and what production refuses (a guessable secret key or webhook secret)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

#: The development secret; a production run refuses it.
DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105
MIN_PRODUCTION_SECRET_LENGTH = 32
#: Estimated entropy (length x per-character Shannon entropy) a production key needs: a
#: blank or one-letter key (32 spaces, "x" * 48) is long enough but guessable. 32 random
#: hex digits score about 93 at worst, token_urlsafe(32) about 185.
MIN_PRODUCTION_SECRET_BITS = 80
#: A webhook signing secret in production: long enough not to be guessed.
MIN_PRODUCTION_WEBHOOK_SECRET_LENGTH = 16


def split_csv(value: Any) -> Any:
    """A comma-separated string as a tuple of its non-blank parts (other values as given)."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def blank_to_none(value: Any) -> Any:
    """A blank string means "not set"."""
    return None if isinstance(value, str) and not value.strip() else value


def service_url(value: str) -> str:
    """An absolute http(s) URL of a service called from the server: no credentials, query or
    fragment; without a trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must not contain credentials, a query or a fragment")
    return value.strip().rstrip("/")


def public_address(value: str | None) -> str | None:
    """An absolute http(s) URL users reach (the site, the stream gateway): no query or
    fragment; without a trailing slash."""
    if value is None:
        return value
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return value.strip().rstrip("/")


def secret_bits(key: str) -> float:
    """A rough entropy estimate: length times the Shannon entropy of the character mix."""
    if not key:
        return 0.0
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return len(key) * per_char


def check_production_secret(key: str) -> None:
    hint = f"set SECRET_KEY to a random value of at least {MIN_PRODUCTION_SECRET_LENGTH} characters"
    if key == DEFAULT_SECRET_KEY or not key.strip():
        raise ValueError(f"SECRET_KEY: production refuses a missing or default secret key; {hint}")
    if len(key) < MIN_PRODUCTION_SECRET_LENGTH:
        raise ValueError(
            f"SECRET_KEY: production needs at least {MIN_PRODUCTION_SECRET_LENGTH} characters"
        )
    repeated = key in (key + key)[1:-1]  # a shorter unit over and over ("ab" * 24)
    if repeated or secret_bits(key) < MIN_PRODUCTION_SECRET_BITS:
        raise ValueError(f"SECRET_KEY: production refuses a low-entropy (repetitive) key; {hint}")


def check_webhook_secret(alias: str, secret: str) -> None:
    repeated = secret in (secret + secret)[1:-1]
    if len(secret) < MIN_PRODUCTION_WEBHOOK_SECRET_LENGTH or repeated:
        raise ValueError(
            f"{alias}: production needs a random signing secret of at least "
            f"{MIN_PRODUCTION_WEBHOOK_SECRET_LENGTH} characters"
        )
