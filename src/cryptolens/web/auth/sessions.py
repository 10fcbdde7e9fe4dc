"""Starting a signed-in session, and per-app account helpers (hasher, secret box)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Response, after_this_request, current_app, request, session, url_for
from flask_login import login_user, logout_user

from cryptolens.clock import utcnow
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts.accounts import Account
from cryptolens.services.accounts.passwords import Passwords
from cryptolens.services.accounts.twofactor import SecretBox
from cryptolens.services.accounts.user_sessions import open_session, revoke_session, session_id_of
from cryptolens.web.auth.throttle import DEVICE_COOKIE, DEVICE_COOKIE_DAYS, device_cookie_value
from cryptolens.web.principal import current_principal
from cryptolens.web.security import CurrentUser, session_rules

#: A relative path of visible ASCII: no CR/LF (header injection), no tab or newline that a
#: browser drops (turning "/\n/evil.example" into "//evil.example"), no "//" or backslash.
_SAFE_PATH = re.compile(r"/(?![/\\])[\x21-\x5b\x5d-\x7e]*")
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
    """Sign in with a fresh session (no fixation) and its server-side record, and mark this
    browser as a known device."""
    session.clear()
    rules = session_rules(app_settings(current_app))
    token = open_session(
        db.session(),
        user_id=account.id,
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        now=utcnow(),
        rules=rules,
    )
    db.session.commit()
    user = CurrentUser(account, token, session_id_of(token))
    login_user(user, remember=remember, duration=rules.lifetime)
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


def end_session() -> None:
    """Sign this browser out: revoke its session record, then clear the session and (through
    Flask-Login, after the clear so its note survives) the remember cookie."""
    principal = current_principal()
    if principal.user_id is not None and principal.session_id is not None:
        revoke_session(
            db.session(), user_id=principal.user_id, session_id=principal.session_id, now=utcnow()
        )
        db.session.commit()
    session.clear()
    logout_user()


def safe_next(target: str | None) -> str:
    """A same-site path to go to after sign-in; anything else goes to the dashboard."""
    if target and _SAFE_PATH.fullmatch(target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
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
