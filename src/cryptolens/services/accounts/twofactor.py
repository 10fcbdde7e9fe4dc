"""TOTP two-factor authentication: encrypted secrets, replay protection, backup codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cryptolens.db.accounts import BackupCode, User
from cryptolens.db.transactions import claim_once
from cryptolens.domain.errors import AuthenticationError, ConflictError, NotFoundError
from cryptolens.services.accounts.passwords import Passwords

ISSUER = "CryptoLens"
BACKUP_CODE_COUNT = 10
BAD_CODE = "That code is not valid (codes work once; wait for the next one)."
_STEP = 30
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class SecretBox:
    """Fernet encryption under a key derived (HKDF) from SECRET_KEY, one key per ``purpose``
    (TOTP secrets by default; the email outbox uses its own)."""

    def __init__(self, secret_key: str, *, purpose: bytes = b"cryptolens totp secrets") -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            secret_key.encode("utf-8")
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        opened = self.open_or_none(sealed)
        if opened is None:
            raise AuthenticationError("Two-factor secret unreadable; ask an admin.")
        return opened

    def open_or_none(self, sealed: str) -> str | None:
        """The plain text, or None if ``sealed`` was not sealed under this key and purpose."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            return None


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    uri: str


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("No such user.")
    return user


def _code_digest(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


def begin_setup(session: Session, *, user_id: int, box: SecretBox) -> TotpSetup:
    """Store a new pending secret (not yet enabled) and return it for the QR code."""
    user = _user(session, user_id)
    if user.totp_enabled:
        raise ConflictError("Two-factor authentication is already on.")
    secret = pyotp.random_base32()
    user.totp_secret = box.seal(secret)
    user.totp_last_step = None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return TotpSetup(secret=secret, uri=uri)


def pending_setup(session: Session, *, user_id: int, box: SecretBox) -> TotpSetup | None:
    user = _user(session, user_id)
    if user.totp_enabled or user.totp_secret is None:
        return None
    secret = box.open(user.totp_secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return TotpSetup(secret=secret, uri=uri)


def _accept_totp(user: User, code: str, box: SecretBox, now: datetime) -> bool:
    """Check ``code`` against the previous, current and next step; never an already-used
    step or an earlier one (so a code observed in transit cannot be replayed)."""
    if user.totp_secret is None or not (len(code) == 6 and code.isascii() and code.isdigit()):
        return False
    totp = pyotp.TOTP(box.open(user.totp_secret))
    current = int(now.timestamp()) // _STEP
    for step in (current - 1, current, current + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.at(step * _STEP), code):
            user.totp_last_step = step
            return True
    return False


def _new_backup_codes(session: Session, user_id: int) -> list[str]:
    session.execute(delete(BackupCode).where(BackupCode.user_id == user_id))
    codes = [
        "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(10))
        for _ in range(BACKUP_CODE_COUNT)
    ]
    session.add_all(BackupCode(user_id=user_id, code_hash=_code_digest(user_id, c)) for c in codes)
    return codes


def confirm_setup(
    session: Session, *, user_id: int, code: str, box: SecretBox, now: datetime
) -> list[str]:
    """Enable 2FA once the first code checks out; returns the ten backup codes (shown once)."""
    user = _user(session, user_id)
    if user.totp_enabled:
        raise ConflictError("Two-factor authentication is already on.")
    if not _accept_totp(user, code.strip(), box, now):
        raise AuthenticationError(BAD_CODE)
    user.totp_enabled = True
    return _new_backup_codes(session, user.id)


def verify_second_factor(
    session: Session, *, user_id: int, code: str, box: SecretBox, now: datetime
) -> bool:
    """Check a TOTP or backup code; returns True if a backup code was spent."""
    user = _user(session, user_id)
    cleaned = code.strip().replace(" ", "").replace("-", "").lower()
    if not user.totp_enabled:
        raise AuthenticationError(BAD_CODE)
    if _accept_totp(user, cleaned, box, now):
        return False
    row = session.scalars(
        select(BackupCode).where(
            BackupCode.user_id == user.id,
            BackupCode.code_hash == _code_digest(user.id, cleaned),
            BackupCode.used_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        raise AuthenticationError(BAD_CODE)
    spent = claim_once(
        session,
        update(BackupCode)
        .where(BackupCode.id == row.id, BackupCode.used_at.is_(None))
        .values(used_at=now),
    )
    if not spent:
        raise AuthenticationError(BAD_CODE)
    return True


def remaining_backup_codes(session: Session, *, user_id: int) -> int:
    rows = session.scalars(
        select(BackupCode.id).where(BackupCode.user_id == user_id, BackupCode.used_at.is_(None))
    ).all()
    return len(rows)


def regenerate_backup_codes(
    session: Session, *, user_id: int, code: str, box: SecretBox, now: datetime
) -> list[str]:
    verify_second_factor(session, user_id=user_id, code=code, box=box, now=now)
    return _new_backup_codes(session, user_id)


def disable(
    session: Session,
    *,
    user_id: int,
    password: str,
    code: str,
    passwords: Passwords,
    box: SecretBox,
    now: datetime,
) -> None:
    """Turn 2FA off; needs the password and a current (or backup) code."""
    user = _user(session, user_id)
    if not passwords.verify(user.password_hash, password):
        raise AuthenticationError("The current password is incorrect.")
    verify_second_factor(session, user_id=user_id, code=code, box=box, now=now)
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    session.execute(delete(BackupCode).where(BackupCode.user_id == user_id))
