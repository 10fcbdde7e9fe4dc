"""Sessions, CSRF, rate-limit storage, the access gate and security headers.

A session (and a remember cookie) carries ``"<user id>:<session version>"``; bumping the
user's version (logout everywhere, password change or reset) ends every other session at
its next request, as does deactivating the account.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response, current_app, redirect, request, session, url_for
from flask_login import AnonymousUserMixin, UserMixin, current_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.domain.errors import ForbiddenError
from cryptolens.domain.plans import Plan
from cryptolens.extensions import csrf, db, limiter, login_manager
from cryptolens.services.accounts import Account, load_account
from cryptolens.web.access import Access, access_of
from cryptolens.web.envelope import api_failure

REMEMBER_DAYS = 7
#: The one inline stylesheet allowed: the TradingView attribution logo's rules, which
#: lightweight-charts (pinned in package-lock.json) adds as a <style> element. A hash, not
#: 'unsafe-inline'; a test recomputes it from the vendored file, so an upgrade that changes
#: the rules fails there.
CHART_ATTRIBUTION_STYLE = "'sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY='"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' {CHART_ATTRIBUTION_STYLE}",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def security_config(settings: Settings) -> dict[str, Any]:
    """Flask config for cookies, CSRF and rate-limit storage."""
    secure = settings.is_production
    return {
        "REMEMBER_COOKIE_DURATION": timedelta(days=REMEMBER_DAYS),
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(days=REMEMBER_DAYS),
        "SESSION_PROTECTION": "basic",
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_SSL_STRICT": secure,
        "RATELIMIT_STORAGE_URI": settings.redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": "cryptolens",
        "RATELIMIT_HEADERS_ENABLED": True,
    }


class CurrentUser(UserMixin):  # type: ignore[misc]
    """The signed-in account as Flask-Login sees it; ``account`` holds the read-time plan."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_version}"

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
    user_id, _, version = identity.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    account = load_account(db.session(), user_id=int(user_id), now=utcnow())
    if account is None or not account.active or account.session_version != int(version):
        return None
    return CurrentUser(account)


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def unauthorized() -> BaseResponse:
    if _wants_json():
        return api_failure("Sign in first.", status=401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def gate() -> BaseResponse | None:
    """Apply the view's access level; drop sessions whose user was revoked or deactivated."""
    if not current_user.is_authenticated and "_user_id" in session:
        logout_user()  # stale version or deactivated: end this session and its cookie
    view = current_app.view_functions.get(request.endpoint or "")
    level = access_of(view) if request.endpoint != "static" else Access.PUBLIC
    if level is Access.PUBLIC:
        return None
    if not current_user.is_authenticated:
        return unauthorized()
    if level is Access.SIGNED_IN:
        return None
    if not current_user.account.verified:
        if _wants_json():
            return api_failure("Verify your email address first.", status=403)
        return redirect(url_for("auth.verify_pending"))
    if level is Access.ADMIN and not current_user.is_admin:
        raise ForbiddenError("This page is for administrators.")
    return None


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user.is_authenticated:
        headers.setdefault("Cache-Control", "no-store")
    return response


def register(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.anonymous_user = Anonymous
    csrf.init_app(app)
    limiter.init_app(app)
    app.before_request(gate)
    app.after_request(security_headers)
