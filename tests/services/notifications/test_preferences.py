"""Alert preferences: the defaults, a form stored and read back, and every refusal naming
the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.config import Settings
from cryptolens.domain.errors import TierRequiredError, ValidationError
from cryptolens.domain.plans import Plan
from cryptolens.services.notifications.preferences import (
    Form,
    default_preferences,
    load_preferences,
    parse_form,
    save_preferences,
)
from tests.builders.alerts import Who, add_user
from tests.builders.settings import make_settings


@dataclass(frozen=True)
class Subject:
    plan: Plan
    is_admin: bool = False


FREE, PRO, PREMIUM = Subject(Plan.FREE), Subject(Plan.PRO), Subject(Plan.PREMIUM)
BASE: dict[str, str | list[str]] = {"directions": ["bullish", "bearish"], "min_confluence": "2"}


def test_without_a_row_the_defaults_apply(alerts_engine: Engine) -> None:
    user = add_user(alerts_engine, Who("pro"))
    settings = make_settings(signal_min_confluence=3)
    with Session(alerts_engine) as session:
        prefs = load_preferences(session, user_id=user, settings=settings)
    assert prefs == default_preferences(settings)
    assert prefs.directions == {"bullish", "bearish"}
    assert prefs.min_confluence == 3
    assert (prefs.symbols, prefs.timeframes, prefs.pattern_types) == (None, None, None)
    assert (prefs.quiet_start, prefs.quiet_end, prefs.quiet_mode) == (None, None, "hold")
    assert prefs.daily_cap is None
    assert default_preferences().min_confluence == 2


def test_a_saved_form_reads_back(alerts_engine: Engine, alert_settings: Settings) -> None:
    user = add_user(alerts_engine, Who("pro"))
    form: Form = {
        "directions": ["bearish"],
        "min_confluence": "3",
        "symbols": "eth/usdt, BTC/USDT",
        "timeframes": ["4h", "1h"],
        "pattern_types": ["order_block"],
        "quiet_start": "22:30",
        "quiet_end": "06:45",
        "quiet_mode": "drop",
        "daily_cap": "5",
    }
    with Session(alerts_engine) as session, session.begin():
        saved = save_preferences(
            session, user_id=user, subject=PRO, form=form, settings=alert_settings
        )
    with Session(alerts_engine) as session:
        loaded = load_preferences(session, user_id=user, settings=alert_settings)
    assert loaded == saved
    assert loaded.directions == {"bearish"}
    assert loaded.symbols == ("ETH/USDT", "BTC/USDT")
    assert loaded.timeframes == ("1h", "4h")  # in the configured order
    assert loaded.pattern_types == ("order_block",)
    assert (loaded.quiet_start, loaded.quiet_end) == (time(22, 30), time(6, 45))
    assert (loaded.quiet_mode, loaded.daily_cap) == ("drop", 5)

    # Saving again replaces the row; empty fields fall back to the defaults they stand for.
    with Session(alerts_engine) as session, session.begin():
        save_preferences(session, user_id=user, subject=PRO, form=BASE, settings=alert_settings)
    with Session(alerts_engine) as session:
        again = load_preferences(session, user_id=user, settings=alert_settings)
    assert again.symbols is None
    assert again.quiet_start is None
    assert again.daily_cap is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"directions": ["sideways"]}, "Unknown direction 'sideways'"),
        ({"directions": []}, "at least one direction"),
        ({"min_confluence": "0"}, "from 1 to 8"),
        ({"min_confluence": "9"}, "from 1 to 8"),
        ({"min_confluence": "two"}, "whole number"),
        ({"timeframes": ["1h", "3h"]}, "Unknown timeframe '3h'"),
        ({"pattern_types": ["double_top"]}, "Unknown pattern type 'double_top'"),
        ({"quiet_start": "22:00"}, "both a start and an end"),
        ({"quiet_start": "24:00", "quiet_end": "06:00"}, "start must be a time as HH:MM"),
        ({"quiet_start": "22:00", "quiet_end": "6am"}, "end must be a time as HH:MM"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "different time"),
        ({"quiet_mode": "snooze"}, "Unknown quiet hours mode 'snooze'"),
        ({"daily_cap": "0"}, "from 1 to 1000"),
        ({"daily_cap": "1001"}, "from 1 to 1000"),
        ({"daily_cap": "lots"}, "whole number"),
        ({"symbols": "BTCUSDT"}, "BTCUSDT"),
    ],
)
def test_a_bad_field_is_refused_by_name(change: dict[str, str | list[str]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_form({**BASE, **change}, subject=PREMIUM)


def test_the_confluence_range_follows_the_configured_timeframes() -> None:
    settings = make_settings(base_timeframe="1h", timeframes=("1h", "4h", "1d"))
    assert parse_form({**BASE, "min_confluence": "3"}, subject=PRO, settings=settings)
    with pytest.raises(ValidationError, match="from 1 to 3"):
        parse_form({**BASE, "min_confluence": "4"}, subject=PRO, settings=settings)
    with pytest.raises(ValidationError, match="Unknown timeframe '5m'"):
        parse_form({**BASE, "timeframes": ["5m"]}, subject=PRO, settings=settings)


def test_symbols_and_pattern_types_stay_within_the_plan() -> None:
    with pytest.raises(TierRequiredError, match="ETH/USDT"):
        parse_form({**BASE, "symbols": "ETH/USDT"}, subject=FREE)
    with pytest.raises(TierRequiredError, match="order block zones needs the Pro plan"):
        parse_form({**BASE, "pattern_types": ["order_block"]}, subject=FREE)
    six = ",".join(f"C{i}/USDT" for i in range(6))
    with pytest.raises(TierRequiredError, match="Premium"):
        parse_form({**BASE, "symbols": six}, subject=PRO)
    assert parse_form({**BASE, "symbols": six}, subject=PREMIUM).symbols is not None
    free = parse_form({**BASE, "symbols": "btc/usdt", "pattern_types": ["fvg"]}, subject=FREE)
    assert (free.symbols, free.pattern_types) == (("BTC/USDT",), ("fvg",))
