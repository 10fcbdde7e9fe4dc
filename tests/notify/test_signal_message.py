from __future__ import annotations

import json

import pytest

from cryptolens.notify.channel import Action, Priority
from cryptolens.notify.links import PublicLinks
from cryptolens.notify.signal_message import format_price, signal_message
from tests.builders.notify import make_summary

LINKS = PublicLinks("https://lens.example.com")
SUMMARY = make_summary()


def test_the_title_names_symbol_side_and_timeframe_count() -> None:
    assert signal_message(SUMMARY, LINKS).title == "BTC/USDT long · 3 TF"
    short = make_summary(direction="bearish", timeframes=("1h", "4h"), confluence=2)
    assert signal_message(short, LINKS).title == "BTC/USDT short · 2 TF"


def test_the_body_gives_levels_timeframes_and_patterns() -> None:
    body = signal_message(SUMMARY, LINKS).body
    for expected in (
        "Entry 64,123.5",
        "Stop 63,500.0",
        "Targets 64,747.0 / 65,370.5 / 65,994.0",
        "R:R 2.00",
        "Timeframes 15m, 1h, 4h",
        "Patterns fvg, order block",
    ):
        assert expected in body


@pytest.mark.parametrize(
    ("confluence", "priority"),
    [
        (1, Priority.DEFAULT),
        (2, Priority.DEFAULT),
        (3, Priority.HIGH),
        (4, Priority.URGENT),
        (7, Priority.URGENT),
    ],
)
def test_priority_rises_with_confluence(confluence: int, priority: Priority) -> None:
    assert signal_message(make_summary(confluence=confluence), LINKS).priority is priority


def test_links_are_absolute_under_the_public_url() -> None:
    message = signal_message(SUMMARY, LINKS)
    assert message.click_url == "https://lens.example.com/signals/42"
    assert message.actions == (
        Action("View signal", "https://lens.example.com/signals/42"),
        Action("View chart", "https://lens.example.com/symbols/BTC/USDT?timeframe=15m"),
    )


def test_tags_carry_the_direction_emoji_and_the_symbol() -> None:
    assert signal_message(SUMMARY, LINKS).tags == ("chart_with_upwards_trend", "BTC-USDT")
    bearish = signal_message(make_summary(direction="bearish"), LINKS)
    assert bearish.tags[0] == "chart_with_downwards_trend"


def test_data_is_the_summary_as_json() -> None:
    data = signal_message(make_summary(risk_reward=float("nan")), LINKS).data
    assert data is not None
    decoded = json.loads(json.dumps(data, allow_nan=False))
    assert decoded["url"] == "https://lens.example.com/signals/42"
    assert decoded["signal"]["targets"] == [64747.0, 65370.5, 65994.0]
    assert decoded["signal"]["timeframes"] == ["15m", "1h", "4h"]
    assert decoded["signal"]["risk_reward"] is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [(64123.5, "64,123.5"), (0.00001234, "0.0000123400"), (0.0, "0"), (float("inf"), "—")],
)
def test_prices_keep_six_significant_digits(value: float, shown: str) -> None:
    assert format_price(value) == shown
