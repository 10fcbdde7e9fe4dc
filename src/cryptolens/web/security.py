"""Sessions, CSRF, rate-limit storage, trusted hosts, the access gate and security headers.

A session (and a remember cookie) carries ``"<user id>:<session version>:<session token>"``.
The token names a server-side record (``services.accounts.user_sessions``) checked on every request,
so signing out, "sign out this device", the lifetime and the idle timeout end a session even
where its cookie was copied; bumping the user's version (logout everywhere, password change
or reset) ends every session too, as does deactivating the account.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from flask_login import AnonymousUserMixin, UserMixin, current_user, logout_user
from werkzeug.exceptions import SecurityError
from werkzeug.wrappers import Response as BaseResponse

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.domain.errors import ForbiddenError
from cryptolens.domain.plans import Plan
from cryptolens.extensions import csrf, db, limiter, login_manager
from cryptolens.infra import limits_memory
from cryptolens.runtime import app_settings
from cryptolens.services.accounts.accounts import Account, load_account
from cryptolens.services.accounts.user_sessions import SessionRules, check_session
from cryptolens.web.access import Access, access_of
from cryptolens.web.envelope import api_failure
from cryptolens.web.principal import (
    API_KEY_HEADER,
    API_KEY_QUERY,
    Principal,
    current_principal,
    protect_from_csrf,
    resolve_principal,
)

#: The one inline stylesheet allowed: the TradingView attribution logo's rules, which
#: lightweight-charts (pinned in package-lock.json) adds as a <style> element. A hash, not
#: 'unsafe-inline'; a test recomputes it from the vendored file, so an upgrade that changes
#: the rules fails there.
CHART_ATTRIBUTION_STYLE = "'sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY='"


def content_security_policy(
    form_targets: tuple[str, ...] = (), connect_sources: tuple[str, ...] = ()
) -> str:
    """The policy; ``form_targets`` are origins a form on the page may also be sent (or
    redirected) to: the payment providers' pages on pages with buy buttons;
    ``connect_sources`` origins scripts may also open connections to: the live stream's
    gateway when it has an origin of its own (STREAM_PUBLIC_URL)."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            " ".join(("connect-src 'self'", *connect_sources)),
            f"style-src 'self' {CHART_ATTRIBUTION_STYLE}",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            " ".join(("form-action 'self'", *form_targets)),
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
FORM_TARGETS = "csp_form_targets"


def allow_form_targets(origins: tuple[str, ...]) -> None:
    """Let this response's forms lead to ``origins`` (CSP form-action): checkout answers a
    buy button with a redirect to the provider, which the browser checks against it."""
    setattr(g, FORM_TARGETS, origins)


#: The page uses none of these browser features; deny them to anything embedded or injected.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def security_config(settings: Settings) -> dict[str, Any]:
    """Flask config for cookies, CSRF and rate-limit storage."""
    secure = settings.is_production
    lifetime = timedelta(days=settings.session_lifetime_days)
    return {
        "TRUSTED_HOSTS": settings.allowed_hosts,
        "REMEMBER_COOKIE_DURATION": lifetime,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": lifetime,
        "SESSION_PROTECTION": "basic",
        "WTF_CSRF_ENABLED": True,
        # CSRF is checked in ``authenticate``, by how the request is authenticated.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_SSL_STRICT": secure,
        "RATELIMIT_STORAGE_URI": settings.redis_url or f"{limits_memory.SCHEME}://",
        "RATELIMIT_KEY_PREFIX": "cryptolens",
        "RATELIMIT_HEADERS_ENABLED": True,
        # The IETF draft's names; Reset is the window's end in epoch seconds (Flask-Limiter's),
        # Retry-After the seconds to wait.
        "RATELIMIT_HEADER_LIMIT": "RateLimit-Limit",
        "RATELIMIT_HEADER_REMAINING": "RateLimit-Remaining",
        "RATELIMIT_HEADER_RESET": "RateLimit-Reset",
    }


def session_rules(settings: Settings) -> SessionRules:
    idle = settings.session_idle_timeout_minutes
    return SessionRules(
        lifetime=timedelta(days=settings.session_lifetime_days),
        idle_timeout=timedelta(minutes=idle) if idle else None,
    )


class CurrentUser(UserMixin):  # type: ignore[misc]
    """The signed-in account as Flask-Login sees it; ``account`` holds the read-time plan,
    ``token`` the cookie's key to its server-side session record."""

    def __init__(self, account: Account, token: str, session_id: str) -> None:
        self.account = account
        self.token = token
        self.session_id = session_id

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_version}:{self.token}"

    @property
    def is_active(self) -> bool:
        return self.account.active

    @property
    def plan(self) -> Plan:
        return self.account.plan

    @property
    def is_admin(self) -> bool:
        return self.account.is_admin


class Anonymous(AnonymousUserMixin):  # type: ignore[misc]
    plan = Plan.FREE
    is_admin = False
    account = None


def load_user(identity: str) -> CurrentUser | None:
    """The user of a session or remember cookie whose record is still live, else None."""
    user_id, _, rest = identity.partition(":")
    version, _, token = rest.partition(":")
    if not (user_id.isdigit() and version.isdigit() and token):
        return None
    now = utcnow()
    account = load_account(db.session(), user_id=int(user_id), now=now)
    if account is None or not account.active or account.session_version != int(version):
        return None
    rules = session_rules(app_settings(current_app))
    session_id = check_session(db.session(), user_id=account.id, token=token, now=now, rules=rules)
    if session_id is None:
        return None
    if db.session.dirty:  # last_seen_at moved on (at most once a minute)
        db.session.commit()
    return CurrentUser(account, token, session_id)


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def unauthorized() -> BaseResponse:
    if _wants_json():
        return api_failure("Sign in first.", status=401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def refuse_untrusted_host() -> None:
    """Answer 400 for a Host outside TRUSTED_HOSTS before any hook builds a link from it.

    Flask notes the bad host as a routing error raised only at dispatch, after the
    before-request hooks (which may redirect, i.e. build URLs from that host).
    """
    if isinstance(request.routing_exception, SecurityError):
        raise request.routing_exception


def _sent_api_key() -> str | None:
    """The key in the X-API-Key header, else in ``?api_key=`` (the header wins)."""
    return request.headers.get(API_KEY_HEADER) or request.args.get(API_KEY_QUERY) or None


def authenticate() -> BaseResponse | None:
    """Resolve the caller onto ``g.principal``, then check CSRF by how they authenticated."""
    # Keys are for the JSON API; pages (which read the signed-in account) ignore them.
    api_key = _sent_api_key() if _wants_json() else None
    if api_key is None and not current_user.is_authenticated and "_user_id" in session:
        logout_user()  # revoked, expired, stale version or deactivated: drop it and its cookie
    principal = resolve_principal(api_key)
    if principal is None:
        return api_failure("The API key is not valid.", status=401)
    g.principal = principal
    if current_app.config["WTF_CSRF_ENABLED"]:
        protect_from_csrf(principal)
    return None


def _check_level(principal: Principal, level: Access) -> BaseResponse | None:
    if not principal.is_authenticated:
        return unauthorized()
    if level is Access.SIGNED_IN:
        return None
    if not principal.verified:
        if _wants_json():
            return api_failure("Verify your email address first.", status=403)
        return redirect(url_for("auth.verify_pending"))
    if level is Access.ADMIN and not principal.is_admin:
        raise ForbiddenError("This page is for administrators.")
    return None


def gate() -> BaseResponse | None:
    """Apply the view's access level to the request's principal."""
    view = current_app.view_functions.get(request.endpoint or "")
    level = access_of(view) if request.endpoint != "static" else Access.PUBLIC
    if level is Access.PUBLIC:
        return None
    return _check_level(current_principal(), level)


def security_headers(response: Response) -> Response:
    headers = response.headers
    stream_origin = app_settings(current_app).stream_origin
    policy = content_security_policy(
        g.get(FORM_TARGETS, ()), (stream_origin,) if stream_origin else ()
    )
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_principal().is_authenticated:
        headers.setdefault("Cache-Control", "no-store")
    return response


def register(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.anonymous_user = Anonymous
    csrf.init_app(app)
    limiter.init_app(app)
    app.before_request(refuse_untrusted_host)
    app.before_request(authenticate)
    app.before_request(gate)
    app.after_request(security_headers)
