"""Starting a signed-in session, and per-app account helpers (hasher, secret box)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Response, after_this_request, current_app, session, url_for
from flask_login import login_user

from cryptolens.runtime import app_settings
from cryptolens.services.accounts import Account
from cryptolens.services.passwords import Passwords
from cryptolens.services.twofactor import SecretBox
from cryptolens.web.auth.throttle import DEVICE_COOKIE, DEVICE_COOKIE_DAYS, device_cookie_value
from cryptolens.web.security import REMEMBER_DAYS, CurrentUser

PENDING_2FA = "pending_2fa"
PENDING_2FA_SECONDS = 300
_PASSWORDS = "cryptolens.passwords"
_SECRET_BOX = "cryptolens.secret_box"  # noqa: S105  (an extensions key)


def passwords() -> Passwords:
    hasher: Passwords | None = current_app.extensions.get(_PASSWORDS)
    if hasher is None:
        settings = app_settings(current_app)
        hasher = Passwords(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
        )
        current_app.extensions[_PASSWORDS] = hasher
    return hasher


def secret_box() -> SecretBox:
    box: SecretBox | None = current_app.extensions.get(_SECRET_BOX)
    if box is None:
        box = SecretBox(current_app.config["SECRET_KEY"])
        current_app.extensions[_SECRET_BOX] = box
    return box


def start_session(account: Account, *, remember: bool) -> None:
    """Sign in with a fresh session (no fixation) and mark this browser as a known device."""
    session.clear()
    login_user(CurrentUser(account), remember=remember, duration=timedelta(days=REMEMBER_DAYS))
    cookie = device_cookie_value(account.email)
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))

    @after_this_request
    def _device(response: Response) -> Response:
        response.set_cookie(
            DEVICE_COOKIE,
            cookie,
            max_age=DEVICE_COOKIE_DAYS * 86400,
            httponly=True,
            secure=secure,
            samesite="Lax",
        )
        return response


def safe_next(target: str | None) -> str:
    """A same-site path to go to after sign-in; anything else goes to the dashboard."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("dashboard.index")


def finish_sign_in(account: Account, *, remember: bool, next_path: str) -> str:
    """Sign in, or park the account until its second factor; returns where to go next."""
    if not account.totp_enabled:
        start_session(account, remember=remember)
        return safe_next(next_path)
    session.clear()
    session[PENDING_2FA] = {
        "uid": account.id,
        "ver": account.session_version,
        "remember": remember,
        "next": next_path,
        "at": time.time(),
    }
    return url_for("auth.two_factor")


def pending_second_factor() -> dict[str, Any] | None:
    """The sign-in waiting for its second factor, if recent enough."""
    pending: dict[str, Any] | None = session.get(PENDING_2FA)
    if not pending or time.time() - float(pending["at"]) > PENDING_2FA_SECONDS:
        session.pop(PENDING_2FA, None)
        return None
    return pending
