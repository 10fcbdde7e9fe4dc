"""Who is calling: the one place that turns a request's credentials into a ``Principal``.

Two ways in: the session cookie (Flask-Login, checked against its server-side record) and an
``X-API-Key`` header (or ``?api_key=``), resolved by a pluggable function: the app installs
``web.api_key_auth.resolve_api_key``; without one a key authenticates nobody. Routes,
templates and ``policy`` read ``g.principal`` only. CSRF follows from the method: a request
authenticated by a key carries no ambient credential a foreign site could ride on, so it
needs no token; every other write does, under ``/api`` as elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from flask import Flask, current_app, g
from flask_login import current_user

from cryptolens.domain.plans import Plan
from cryptolens.extensions import csrf

API_KEY_HEADER = "X-API-Key"
#: The documented alternative to the header; log lines redact its value (``logs.redact``).
API_KEY_QUERY = "api_key"
_RESOLVER = "cryptolens.api_key_resolver"


class AuthMethod(StrEnum):
    ANONYMOUS = "anonymous"
    SESSION = "session"
    API_KEY = "api_key"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller as routes and policy see it (satisfies ``services.accounts.policy.Subject``)."""

    user_id: int | None
    plan: Plan
    role: str
    scopes: frozenset[str]
    method: AuthMethod
    session_id: str | None = None
    verified: bool = False
    #: The API key that authenticated the request (None: a cookie or nobody).
    api_key_id: int | None = None
    #: Requests per minute, hour and day this caller may make (the key's own limits, else
    #: its plan's); None where no limit of that length applies (cookie calls).
    rate_limits: tuple[int | None, int | None, int | None] = (None, None, None)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_authenticated(self) -> bool:
        return self.method is not AuthMethod.ANONYMOUS


ANONYMOUS = Principal(
    user_id=None, plan=Plan.FREE, role="anonymous", scopes=frozenset(), method=AuthMethod.ANONYMOUS
)

#: Given the X-API-Key header, the key's principal, or None if the key is unknown; a known
#: key that may not be used raises ForbiddenError naming why (a 403 answer).
ApiKeyResolver = Callable[[str], Principal | None]


def no_api_keys(key: str) -> Principal | None:
    """The resolver until API keys exist: no key authenticates anyone."""
    return None


def set_api_key_resolver(app: Flask, resolver: ApiKeyResolver) -> None:
    app.extensions[_RESOLVER] = resolver


def _api_key_resolver() -> ApiKeyResolver:
    resolver: ApiKeyResolver = current_app.extensions.get(_RESOLVER, no_api_keys)
    return resolver


def _session_principal() -> Principal:
    if not current_user.is_authenticated:
        return ANONYMOUS
    account = current_user.account
    return Principal(
        user_id=account.id,
        plan=account.plan,
        role="admin" if account.is_admin else "user",
        scopes=frozenset(("*",)),  # a signed-in browser may do whatever its plan allows
        method=AuthMethod.SESSION,
        session_id=current_user.session_id,
        verified=account.verified,
    )


def resolve_principal(api_key: str | None) -> Principal | None:
    """The caller: by API key when one is sent (None: the key is not valid), else by the
    session cookie (anonymous when there is none)."""
    if api_key is not None:
        return _api_key_resolver()(api_key)
    return _session_principal()


def current_principal() -> Principal:
    """The principal of this request (set by ``security.authenticate``)."""
    principal: Principal = g.get("principal", ANONYMOUS)
    return principal


def protect_from_csrf(principal: Principal) -> None:
    """Check the CSRF token of a write unless a key (not a cookie) authenticated it;
    raises CSRFError."""
    if principal.method is AuthMethod.API_KEY:
        return
    csrf.protect(apply_exemptions=True)
