"""Account rules: email shape, the password policy, the subscription grace period."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime, timedelta

from cryptolens.domain.errors import ValidationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MAX_EMAIL_LENGTH = 254
SUBSCRIPTION_GRACE = timedelta(days=3)
# No control characters: PostgreSQL refuses NUL in text, and none belongs in an address.
_PART = r"[^@\s\x00-\x1f\x7f]"
_EMAIL = re.compile(rf"^{_PART}{{1,64}}@{_PART}+\.{_PART}+$")


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased; raise ValidationError unless it looks like an address."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValidationError("Enter a valid email address, e.g. name@example.com.")
    return email


def check_password(password: str, *, email: str, common: Collection[str]) -> None:
    """Raise ValidationError if ``password`` breaks the policy (length, common, the email)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"The password may have at most {MAX_PASSWORD_LENGTH} characters.")
    lowered = password.lower()
    if lowered in common:
        raise ValidationError("That password is among the most common ones; choose another.")
    local = email.lower().partition("@")[0]
    if lowered == email.lower() or (len(local) >= 4 and lowered == local):
        raise ValidationError("The password may not be your email address.")


def subscription_in_force(expires_at: datetime | None, now: datetime) -> bool:
    """A subscription counts until its expiry plus the grace period (None: never expires)."""
    return expires_at is None or now < expires_at + SUBSCRIPTION_GRACE
