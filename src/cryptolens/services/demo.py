"""The local demo: its sign-in (one administrator with a fresh random password per start) and
the honest name of the market data it shows."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cryptolens.services.accounts import create_admin
from cryptolens.services.passwords import Passwords

DEMO_EMAIL = "demo@example.com"
#: What the demo exchange simulator serves (README, Data credits), whatever symbol it is named.
DEMO_DATA = "replayed Coinbase BTC/USD hourly history (2017-07-01 → 2019-10-17)"


def market_source(*, exchange_id: str, exchange_api_url: str | None, symbols: Sequence[str]) -> str:
    """One line naming where the prices come from: the demo replay when the app reads the
    simulator (``EXCHANGE_API_URL``), else the exchange itself."""
    if exchange_api_url:
        return (
            f"demo data: {DEMO_DATA} served as {', '.join(symbols)} by the local simulator,"
            f" not live {exchange_id} prices"
        )
    return f"market data from {exchange_id} through CCXT"


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
