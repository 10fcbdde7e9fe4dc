"""Rows for the alert tests: reachable users on a plan (with a channel whose target is a
dummy, never decrypted here), their preferences, and signals with their zones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from cryptolens.db.accounts import Subscription, User
from cryptolens.db.models import Pattern, Signal, SignalPattern
from cryptolens.db.notifications import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationPreference,
)
from cryptolens.db.symbols import ensure_symbol

#: 2026-06-01T00:00Z on the exchange clock.
T0 = 1_780_272_000_000
HOUR_MS = 3_600_000
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
_unique = count(1)


@dataclass(frozen=True, slots=True)
class Who:
    """A user to create: ``plan`` "free", "pro", "premium" or "admin" (an admin on Free)."""

    plan: str = "premium"
    timezone: str = "UTC"
    watchlist: tuple[str, ...] | None = None
    kinds: tuple[str, ...] = ("ntfy",)
    email_mode: str = "per_signal"
    verified: bool = True
    active: bool = True
    paused: bool = False


def add_users(engine: Engine, who: Who, n: int = 1) -> list[int]:
    """``n`` users like ``who`` (executemany: 10,000 take a fraction of a second); their ids."""
    tag = next(_unique)
    verified = SINCE if who.verified else None
    users = [
        {
            "email": f"u{tag}-{i}@alerts.test",
            "password_hash": "x",
            "role": "admin" if who.plan == "admin" else "user",
            "active": who.active,
            "email_verified_at": verified,
            "session_version": 1,
            "totp_enabled": False,
            "timezone": who.timezone,
            "watchlist": list(who.watchlist) if who.watchlist is not None else None,
            "created_at": SINCE,
        }
        for i in range(n)
    ]
    with Session(engine) as session, session.begin():
        session.execute(insert(User), users)
        ids = list(
            session.scalars(
                select(User.id).where(User.email.like(f"u{tag}-%@alerts.test")).order_by(User.id)
            )
        )
        if who.plan in ("pro", "premium"):
            session.execute(
                insert(Subscription),
                [
                    {"user_id": u, "plan": who.plan, "started_at": SINCE, "expires_at": None}
                    for u in ids
                ],
            )
        channels = [
            {
                "user_id": u,
                "kind": kind,
                "enabled": True,
                "target_encrypted": "dummy-not-a-fernet-token",
                "display": f"{kind} target",
                "email_mode": who.email_mode,
                "consecutive_failures": 0,
                "paused_at": SINCE if who.paused else None,
            }
            for u in ids
            for kind in who.kinds
        ]
        if channels:
            session.execute(insert(NotificationChannel), channels)
    return ids


def add_user(engine: Engine, who: Who | None = None) -> int:
    return add_users(engine, who or Who())[0]


def set_preferences(engine: Engine, user_id: int, **values: Any) -> None:
    """Store preferences: the defaults (both directions, confluence 2, nothing else) overridden
    by ``values`` (stored forms: lists, "HH:MM" strings)."""
    row: dict[str, Any] = {
        "directions": ["bearish", "bullish"],
        "min_confluence": 2,
        "symbols": None,
        "timeframes": None,
        "pattern_types": None,
        "quiet_start": None,
        "quiet_end": None,
        "quiet_mode": "hold",
        "daily_cap": None,
    }
    row.update(values)
    with Session(engine) as session, session.begin():
        session.merge(NotificationPreference(user_id=user_id, **row))


def add_signal(
    engine: Engine,
    *,
    symbol: str = "BTC/USDT",
    direction: str = "bullish",
    confluence: int = 2,
    timeframes: Sequence[str] = ("1h", "4h"),
    pattern_types: Sequence[str] = ("fvg",),
) -> int:
    """A signal on ``symbol`` with one zone per pattern type (on its first timeframe)."""
    n = next(_unique)
    with Session(engine) as session, session.begin():
        symbol_id = ensure_symbol(session, exchange="binance", symbol=symbol).id
        patterns = [
            Pattern(
                symbol_id=symbol_id,
                timeframe=timeframes[0],
                pattern_type=kind,
                direction=direction,
                zone_low=100.0,
                zone_high=110.0,
                candle_time=T0 + (n * 10 + i) * HOUR_MS,
                formed_at=T0 + (n * 10 + i + 2) * HOUR_MS,
                strength=0.5,
                status="active",
                fill_fraction=0.0,
                expires_at=T0 + (n * 10 + 500) * HOUR_MS,
            )
            for i, kind in enumerate(pattern_types)
        ]
        session.add_all(patterns)
        signal = Signal(
            symbol_id=symbol_id,
            direction=direction,
            confluence=confluence,
            score=1.0,
            timeframes=",".join(timeframes),
            entry=105.0,
            stop=99.0,
            target_1=111.0,
            target_2=117.0,
            target_3=123.0,
            risk_reward=2.0,
            status="pending",
            created_at=T0 + n * HOUR_MS,
        )
        session.add(signal)
        session.flush()
        session.add_all(SignalPattern(signal_id=signal.id, pattern_id=p.id) for p in patterns)
        return signal.id


def notifications_of(engine: Engine, user_id: int) -> list[Notification]:
    with Session(engine, expire_on_commit=False) as session:
        return list(
            session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        )


def deliveries_of(engine: Engine, notification_id: int) -> list[NotificationDelivery]:
    with Session(engine, expire_on_commit=False) as session:
        return list(
            session.scalars(
                select(NotificationDelivery)
                .where(NotificationDelivery.notification_id == notification_id)
                .order_by(NotificationDelivery.channel_id)
            )
        )


def count_rows(engine: Engine, model: type[Any], **where: Any) -> int:
    with Session(engine) as session:
        statement = select(func.count()).select_from(model)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        return int(session.scalar(statement) or 0)
