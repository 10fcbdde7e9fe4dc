"""The local demo's sign-in: one administrator with a fresh random password per start."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cryptolens.services.accounts import create_admin
from cryptolens.services.passwords import Passwords

DEMO_EMAIL = "demo@example.com"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str


def prepare_demo_login(session: Session, *, passwords: Passwords, now: datetime) -> DemoLogin:
    """Create (or re-password) the demo administrator; the caller commits and shows it.

    A new random password each time: there is no default credential to forget to change.
    """
    password = secrets.token_urlsafe(12)
    create_admin(session, email=DEMO_EMAIL, password=password, passwords=passwords, now=now)
    return DemoLogin(DEMO_EMAIL, password)
