"""Per-account throttling of sign-in attempts, on top of the per-IP limits of Flask-Limiter.

The rule (README, "Accounts and security"):
- attempts are counted per (email, client IP): 5 per 15 minutes, 10 per hour, 20 per day —
  the wait grows with each tier and caps at one day;
- and per email across all IPs: 30 per hour, against distributed guessing. A browser that
  signed in to that account before (it holds a signed device cookie) is exempt from this
  bucket, so strangers cannot lock the owner out; a password reset clears both buckets.
Every attempt is recorded before the password is checked, in the store all workers share
(``services.accounts.attempts``); a successful one is forgotten again. Keys are the normalised email
as typed, whether or not an account exists, so the answers for known and unknown addresses
are identical.
"""

from __future__ import annotations

import hashlib
import time

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from cryptolens.domain.throttle import Limit, describe_wait
from cryptolens.extensions import db
from cryptolens.runtime import app_redis
from cryptolens.services.accounts.attempts import (
    Attempt,
    AttemptStore,
    DatabaseAttempts,
    RedisAttempts,
    bucket_name,
    record_attempt,
)

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
PER_ACCOUNT_AND_IP = (Limit(5, 15 * _MINUTE), Limit(10, _HOUR), Limit(20, _DAY))
PER_ACCOUNT = (Limit(30, _HOUR),)
SECOND_FACTOR = (Limit(5, 15 * _MINUTE), Limit(10, _HOUR), Limit(20, _DAY))
RESET_REQUESTS = (Limit(3, _HOUR), Limit(10, _DAY))
DEVICE_COOKIE = "cl_device"
DEVICE_COOKIE_DAYS = 180


def _sign_in_message(wait: int) -> str:
    return (
        f"Too many attempts. Try again in {describe_wait(wait)}, or reset your password by email."
    )


def _second_factor_message(wait: int) -> str:
    return f"Too many attempts. Try again in {describe_wait(wait)}."


def _reset_message(wait: int) -> str:
    return f"Too many reset requests for this address. Try again in {describe_wait(wait)}."


def _key(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()[:32]


def _store() -> AttemptStore:
    client = app_redis(current_app)
    return RedisAttempts(client) if client is not None else DatabaseAttempts(db.engine)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _client() -> str:
    return request.remote_addr or "unknown"


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


def _per_client(email: str) -> str:
    return bucket_name("login-ip", _key(email), _client())


def _per_account(email: str) -> str:
    return bucket_name("login", _key(email))


def attempt_login(email: str) -> Attempt:
    """Record a sign-in attempt; ThrottledError (with the wait) if it is one too many."""
    buckets: list[tuple[str, tuple[Limit, ...]]] = [(_per_client(email), PER_ACCOUNT_AND_IP)]
    if not _known_device(email):
        buckets.append((_per_account(email), PER_ACCOUNT))
    return record_attempt(_store(), buckets, now_ms=_now_ms(), message=_sign_in_message)


def login_succeeded(email: str, attempt: Attempt) -> None:
    """A successful sign-in costs nothing and clears this client's failures."""
    attempt.forget()
    clear_login(email)


def clear_login(email: str, *, everywhere: bool = False) -> None:
    """Forget attempts from this client (after a sign-in) or from all (after a reset)."""
    store = _store()
    store.clear(_per_client(email))
    if everywhere:
        store.clear(_per_account(email))


def attempt_second_factor(user_id: int) -> Attempt:
    bucket = bucket_name("2fa", str(user_id))
    return record_attempt(
        _store(), [(bucket, SECOND_FACTOR)], now_ms=_now_ms(), message=_second_factor_message
    )


def attempt_reset_request(email: str) -> None:
    """Record a password-reset request for this address (known or not); ThrottledError."""
    bucket = bucket_name("reset", _key(email))
    record_attempt(_store(), [(bucket, RESET_REQUESTS)], now_ms=_now_ms(), message=_reset_message)
