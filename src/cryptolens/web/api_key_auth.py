"""API keys at the web edge: the resolver ``web.principal`` calls for an ``X-API-Key`` header
(or ``?api_key=``), and the per-process usage counter.

An unknown or malformed key resolves to nobody (401); a known key that may not be used now
(revoked, expired, rotated past its grace, outside its IP rules, plan lapsed) raises
ForbiddenError naming the reason, which the error handler answers as a 403 envelope.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.domain.errors import ForbiddenError
from cryptolens.extensions import db
from cryptolens.runtime import app_redis, app_settings
from cryptolens.services.accounts.api_key_check import ResolvedKey, verify_key
from cryptolens.services.accounts.api_keys import key_pepper
from cryptolens.services.accounts.api_usage import (
    MemoryUsage,
    RedisUsage,
    UsageCounter,
    flush_usage,
)
from cryptolens.web.principal import AuthMethod, Principal, set_api_key_resolver

log = logging.getLogger(__name__)

_PEPPER = "cryptolens.api_key_pepper"
_COUNTER = "cryptolens.api_usage"


def usage_counter(app: Flask) -> UsageCounter:
    counter: UsageCounter = app.extensions[_COUNTER]
    return counter


def key_principal(resolved: ResolvedKey) -> Principal:
    return Principal(
        user_id=resolved.user_id,
        plan=resolved.plan,
        role=resolved.role,
        scopes=resolved.scopes,
        method=AuthMethod.API_KEY,
        verified=resolved.verified,
        api_key_id=resolved.key_id,
        rate_limits=resolved.limits.as_tuple(),
    )


def _flush_own_counts(app: Flask) -> None:
    """Without Redis this process writes its own counts, at most once a minute."""
    counter = usage_counter(app)
    if not isinstance(counter, MemoryUsage) or not counter.due(utcnow()):
        return
    try:
        with Session(db.engine) as session:
            flush_usage(session, counter)
    except Exception:  # counts were given back; the next flush retries them
        log.exception("could not write API key usage")


def resolve_api_key(plaintext: str) -> Principal | None:
    """The principal of a usable key; None for an unknown one; ForbiddenError otherwise."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    now = utcnow()
    ip = request.remote_addr
    check = verify_key(db.session(), plaintext, ip=ip, now=now, pepper=app.extensions[_PEPPER])
    if not isinstance(check, ResolvedKey):
        if check.status == 401:
            return None
        raise ForbiddenError(check.message)
    usage_counter(app).count(check.key_id, ip=ip, now=now)
    _flush_own_counts(app)
    return key_principal(check)


def register(app: Flask) -> None:
    redis = app_redis(app)
    app.extensions[_PEPPER] = key_pepper(app_settings(app).secret_key)
    app.extensions[_COUNTER] = RedisUsage(redis) if redis is not None else MemoryUsage()
    set_api_key_resolver(app, resolve_api_key)
