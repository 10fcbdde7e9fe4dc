"""Who gets a signal: plans (Free, Pro, Premium, an admin on Free) x preferences (direction,
confluence, symbols and the watchlist, timeframes, pattern types) x the signal. Default
signal: BTC/USDT bullish, confluence 2, on 1h and 4h, from a fair value gap."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from cryptolens.config import Settings
from cryptolens.services.notifications.fanout import fan_out_signal
from tests.builders.alerts import Who, add_signal, add_user, notifications_of, set_preferences

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FREE, PRO, PREMIUM, ADMIN = Who("free"), Who("pro"), Who("premium"), Who("admin")
ETH_OB: dict[str, Any] = {"symbol": "ETH/USDT", "pattern_types": ("order_block",)}

MATRIX: list[tuple[str, Who, dict[str, Any], dict[str, Any], bool]] = [
    # plan limits: Free hears of BTC/USDT fair value gaps only
    ("free-default", FREE, {}, {}, True),
    ("free-other-symbol", FREE, {}, {"symbol": "ETH/USDT"}, False),
    ("free-order-block", FREE, {}, {"pattern_types": ("order_block",)}, False),
    ("free-fvg-and-order-block", FREE, {}, {"pattern_types": ("fvg", "order_block")}, False),
    ("free-empty-watchlist", Who("free", watchlist=()), {}, {}, True),
    ("pro-any-symbol-any-type", PRO, {}, ETH_OB, True),
    ("premium-sweep", PREMIUM, {}, {"pattern_types": ("liquidity_sweep",)}, True),
    ("admin-on-free", ADMIN, {}, ETH_OB, True),
    # symbols: the watchlist by default, the preference over it
    ("pro-watchlist-miss", Who("pro", watchlist=("ETH/USDT",)), {}, {}, False),
    ("pro-watchlist-hit", Who("pro", watchlist=("ETH/USDT",)), {}, {"symbol": "ETH/USDT"}, True),
    (
        "pro-symbols-over-watchlist",
        Who("pro", watchlist=("ETH/USDT",)),
        {"symbols": ["BTC/USDT"]},
        {},
        True,
    ),
    ("premium-symbols-miss", PREMIUM, {"symbols": ["SOL/USDT"]}, {}, False),
    # direction
    ("premium-bearish-only-bullish", PREMIUM, {"directions": ["bearish"]}, {}, False),
    (
        "premium-bearish-only-bearish",
        PREMIUM,
        {"directions": ["bearish"]},
        {"direction": "bearish"},
        True,
    ),
    # confluence
    ("premium-confluence-3-of-2", PREMIUM, {"min_confluence": 3}, {}, False),
    (
        "premium-confluence-3-of-3",
        PREMIUM,
        {"min_confluence": 3},
        {"confluence": 3, "timeframes": ("1h", "4h", "1d")},
        True,
    ),
    # timeframes: any of the signal's
    ("premium-1d-only", PREMIUM, {"timeframes": ["1d"]}, {}, False),
    ("premium-4h-only", PREMIUM, {"timeframes": ["4h", "1d"]}, {}, True),
    # pattern types: any of the signal's zones
    ("premium-order-blocks-of-fvg", PREMIUM, {"pattern_types": ["order_block"]}, {}, False),
    (
        "premium-order-blocks-of-mixed",
        PREMIUM,
        {"pattern_types": ["order_block"]},
        {"pattern_types": ("fvg", "order_block")},
        True,
    ),
    ("free-asks-order-blocks", FREE, {"pattern_types": ["order_block"]}, ETH_OB, False),
    # who cannot be reached at all
    ("unverified", Who("premium", verified=False), {}, {}, False),
    ("deactivated", Who("premium", active=False), {}, {}, False),
    ("only-channel-paused", Who("premium", paused=True), {}, {}, False),
    ("no-channel", Who("premium", kinds=()), {}, {}, False),
]


def _notified(
    engine: Engine, settings: Settings, who: Who, prefs: dict[str, Any], signal: dict[str, Any]
) -> bool:
    user = add_user(engine, who)
    if prefs:
        set_preferences(engine, user, **prefs)
    signal_id = add_signal(engine, **signal)
    fan_out_signal(engine, settings, signal_id=signal_id, now=NOW)
    return any(n.status in ("queued", "held") for n in notifications_of(engine, user))


@pytest.mark.parametrize(
    ("who", "prefs", "signal", "expected"),
    [row[1:] for row in MATRIX],
    ids=[row[0] for row in MATRIX],
)
def test_who_gets_a_signal(
    alerts_engine: Engine,
    alert_settings: Settings,
    who: Who,
    prefs: dict[str, Any],
    signal: dict[str, Any],
    expected: bool,
) -> None:
    assert _notified(alerts_engine, alert_settings, who, prefs, signal) is expected


WITHOUT_PLANS: list[tuple[str, Who, dict[str, Any], dict[str, Any], bool]] = [
    ("free-gets-everything", FREE, {}, ETH_OB, True),
    ("free-mixed-types", FREE, {}, {"pattern_types": ("fvg", "liquidity_sweep")}, True),
    ("preferences-still-apply", FREE, {"directions": ["bearish"]}, ETH_OB, False),
    ("watchlist-still-applies", Who("free", watchlist=("BTC/USDT",)), {}, ETH_OB, False),
]


@pytest.mark.parametrize(
    ("who", "prefs", "signal", "expected"),
    [row[1:] for row in WITHOUT_PLANS],
    ids=[row[0] for row in WITHOUT_PLANS],
)
def test_without_plans_every_account_may_hear_of_every_signal(
    alerts_engine: Engine,
    alert_settings: Settings,
    plans_off: None,
    who: Who,
    prefs: dict[str, Any],
    signal: dict[str, Any],
    expected: bool,
) -> None:
    assert _notified(alerts_engine, alert_settings, who, prefs, signal) is expected
