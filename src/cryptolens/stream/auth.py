"""Who is connecting: the web app's session cookie (signed with SECRET_KEY the way Flask
signs it, then checked like every page request: live server-side session, session version,
active account) or an API key with the ``read:stream`` scope. The same checks run again at
every heartbeat, so a revoked key or an ended session closes the connection.

The checks are blocking database reads: callers run them in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from sqlalchemy.orm import Session, sessionmaker

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.domain.api_scopes import Scope
from cryptolens.domain.plans import Plan
from cryptolens.services.accounts.accounts import load_account
from cryptolens.services.accounts.api_key_check import ResolvedKey, verify_key
from cryptolens.services.accounts.api_keys import key_pepper
from cryptolens.services.accounts.user_sessions import SessionRules, check_session

#: The cookie Flask keeps its session in (the app keeps Flask's default name).
SESSION_COOKIE = "session"
#: Where Flask-Login keeps "<user id>:<session version>:<session token>" in the session.
_USER_KEY = "_user_id"


@dataclass(frozen=True, slots=True)
class SessionCredential:
    user_id: int
    version: int
    token: str


@dataclass(frozen=True, slots=True)
class KeyCredential:
    plaintext: str
    ip: str | None


Credential = SessionCredential | KeyCredential


@dataclass(frozen=True, slots=True)
class Viewer:
    """A connected user as plan policy sees them, and what to check again later."""

    user_id: int
    plan: Plan
    is_admin: bool
    credential: Credential


@dataclass(frozen=True, slots=True)
class Refused:
    """No viewer: 401 (not signed in, unknown key) or 403 (the reason is named)."""

    message: str
    status: int = 401


ENDED = "Your session has ended; sign in again."


class Authenticator:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._pepper = key_pepper(settings.secret_key)
        idle = settings.session_idle_timeout_minutes
        self._rules = SessionRules(
            lifetime=timedelta(days=settings.session_lifetime_days),
            idle_timeout=timedelta(minutes=idle) if idle else None,
        )
        # Flask's own cookie signer, configured as the web app configures it.
        signer_app = Flask("cryptolens.stream")
        signer_app.secret_key = settings.secret_key
        signer = SecureCookieSessionInterface().get_signing_serializer(signer_app)
        assert signer is not None  # a secret key is set
        self._signer = signer
        self._max_age = int(self._rules.lifetime.total_seconds())

    def session_credential(self, cookie: str | None) -> SessionCredential | None:
        """What a session cookie signed by the web app names (no database read)."""
        if not cookie:
            return None
        try:
            data: Any = self._signer.loads(cookie, max_age=self._max_age)
        except BadSignature:
            return None
        identity = data.get(_USER_KEY) if isinstance(data, dict) else None
        if not isinstance(identity, str):
            return None
        user_id, _, rest = identity.partition(":")
        version, _, token = rest.partition(":")
        if not (user_id.isdigit() and version.isdigit() and token):
            return None
        return SessionCredential(int(user_id), int(version), token)

    def check(self, credential: Credential) -> Viewer | Refused:
        """The viewer ``credential`` stands for now, or why there is none (blocking)."""
        if isinstance(credential, KeyCredential):
            return self._check_key(credential)
        return self._check_session(credential)

    def _check_session(self, credential: SessionCredential) -> Viewer | Refused:
        now = utcnow()
        with self._sessions() as session:
            account = load_account(session, user_id=credential.user_id, now=now)
            if (
                account is None
                or not account.active
                or account.session_version != credential.version
            ):
                return Refused(ENDED)
            live = check_session(
                session, user_id=account.id, token=credential.token, now=now, rules=self._rules
            )
            if live is None:
                return Refused(ENDED)
            session.commit()  # last_seen_at, at most once a minute
        if not account.verified:
            return Refused("Verify your email address first.", status=403)
        return Viewer(account.id, account.plan, account.is_admin, credential)

    def _check_key(self, credential: KeyCredential) -> Viewer | Refused:
        with self._sessions() as session:
            found = verify_key(
                session, credential.plaintext, ip=credential.ip, now=utcnow(), pepper=self._pepper
            )
        if not isinstance(found, ResolvedKey):
            return Refused(found.message, status=found.status)
        if Scope.READ_STREAM.value not in found.scopes:
            return Refused("This API key lacks the read:stream scope.", status=403)
        return Viewer(found.user_id, found.plan, found.is_admin, credential)
