"""Per-account throttling of sign-in attempts, on top of the per-IP limits of Flask-Limiter.

The rule (README, "Accounts and security"):
- failures are counted per (email, client IP): 5 per 15 minutes, 10 per hour, 20 per day —
  the wait grows with each tier and caps at one day;
- and per email across all IPs: 30 per hour, against distributed guessing. A browser that
  signed in to that account before (it holds a signed device cookie) is exempt from this
  bucket, so strangers cannot lock the owner out; a password reset clears both buckets.
Keys are the normalised email as typed, whether or not an account exists, so the answers
for known and unknown addresses are identical.
"""

from __future__ import annotations

import hashlib

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem, parse_many
from limits.strategies import MovingWindowRateLimiter

from cryptolens.domain.errors import ThrottledError
from cryptolens.extensions import limiter

PER_ACCOUNT_AND_IP = parse_many("5/15 minutes;10/hour;20/day")
PER_ACCOUNT = parse_many("30/hour")
SECOND_FACTOR = parse_many("5/15 minutes;10/hour;20/day")
DEVICE_COOKIE = "cl_device"
DEVICE_COOKIE_DAYS = 180
THROTTLED = "Too many attempts. Wait a while, or reset your password by email."


def _key(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()[:32]


def _strategy() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(limiter.storage)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="cryptolens-device")


def device_cookie_value(email: str) -> str:
    return _serializer().dumps(_key(email))


def _known_device(email: str) -> bool:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return False
    try:
        return bool(_serializer().loads(raw) == _key(email))
    except BadSignature:
        return False


def _buckets(email: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    account = _key(email)
    client = request.remote_addr or "unknown"
    buckets: list[tuple[RateLimitItem, tuple[str, ...]]] = [
        (item, ("login-ip", account, client)) for item in PER_ACCOUNT_AND_IP
    ]
    if not _known_device(email):
        buckets += [(item, ("login", account)) for item in PER_ACCOUNT]
    return buckets


def check_login(email: str) -> None:
    """Raise ThrottledError if this email may not be tried from this client now."""
    strategy = _strategy()
    if not all(strategy.test(item, *keys) for item, keys in _buckets(email)):
        raise ThrottledError(THROTTLED)


def record_login_failure(email: str) -> None:
    strategy = _strategy()
    for item, keys in _buckets(email):
        strategy.hit(item, *keys)


def clear_login(email: str, *, everywhere: bool = False) -> None:
    """Forget failures for this client (after a sign-in) or for all (after a reset)."""
    strategy = _strategy()
    account = _key(email)
    for item in PER_ACCOUNT_AND_IP:
        strategy.clear(item, "login-ip", account, request.remote_addr or "unknown")
    if everywhere:
        for item in PER_ACCOUNT:
            strategy.clear(item, "login", account)


def check_second_factor(user_id: int) -> None:
    strategy = _strategy()
    if not all(strategy.test(item, "2fa", str(user_id)) for item in SECOND_FACTOR):
        raise ThrottledError(THROTTLED)


def record_second_factor_failure(user_id: int) -> None:
    strategy = _strategy()
    for item in SECOND_FACTOR:
        strategy.hit(item, "2fa", str(user_id))
