"""The local demo: one administrator with a fresh random password per start, where that
password is written down, where the replayed market resumes, and the honest name of the
market data it shows."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from cryptolens.services.accounts.accounts import create_admin
from cryptolens.services.accounts.passwords import Passwords
from cryptolens.services.market.clock import market_now

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


def save_demo_login(login: DemoLogin, *, instance_dir: Path) -> Path | None:
    """Write the login to ``demo-login.txt`` in ``instance_dir`` (created if need be; a
    relative one is taken from the working directory, as every setting is), readable by the
    owner only. None if it cannot be written: the caller then only prints it."""
    note = instance_dir / "demo-login.txt"
    try:
        instance_dir.mkdir(parents=True, exist_ok=True)
        note.write_text(f"{login.email}\n{login.password}\n", encoding="utf-8")
        note.chmod(0o600)
    except OSError:
        return None
    return note.resolve()


def demo_replay_start(session: Session, *, exchange: str, default_ms: int) -> int:
    """Where the demo exchange's clock starts: where the stored market clock stopped, so a
    restarted demo carries on instead of replaying months it has already stored (and sending
    no new candle until it caught up); ``default_ms`` on a first start."""
    stored = market_now(session, exchange=exchange)
    return default_ms if stored is None else max(stored, default_ms)
