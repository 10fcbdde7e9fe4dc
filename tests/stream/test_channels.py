"""Channel names: parsing (a property over every valid name) and plan refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.domain.plans import Plan
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.stream.channels import (
    Channel,
    ChannelError,
    ChannelKind,
    parse_channel,
    parse_channels,
    refusal,
)
from cryptolens.stream.items import StreamItem, delay_seconds, replayable, visible

_ASSET = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=8)


@st.composite
def channels(draw: st.DrawFn) -> Channel:
    kind = draw(st.sampled_from(list(ChannelKind)))
    if kind is ChannelKind.SIGNALS:
        return Channel(kind)
    symbol = f"{draw(_ASSET)}/{draw(_ASSET)}"
    if kind is ChannelKind.ZONES:
        return Channel(kind, symbol)
    return Channel(kind, symbol, draw(st.sampled_from(list(TIMEFRAME_MS))))


@given(channels())
def test_every_channel_name_parses_back_to_its_channel(channel: Channel) -> None:
    assert parse_channel(channel.name) == channel
    assert parse_channel(channel.name.lower().replace("signals", "SIGNALS")).name == channel.name


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("weather", "Unknown channel"),
        ("zones", "Unknown channel"),
        ("signals:BTC/USDT", "Unknown channel"),
        ("zones:BTCUSDT", "not a symbol"),
        ("candles:BTC/USDT:7m", "unknown timeframe"),
        ("price:BTC/USDT", "Unknown channel"),
        ("zones:" + "A" * 80, "too long"),
    ],
)
def test_bad_channel_names_are_refused_saying_why(text: str, says: str) -> None:
    with pytest.raises(ChannelError, match=says):
        parse_channel(text)


def test_a_connection_names_between_one_and_the_limit_of_channels() -> None:
    with pytest.raises(ChannelError, match="at least one"):
        parse_channels(["", " "], limit=3)
    with pytest.raises(ChannelError, match="At most 2"):
        parse_channels(["signals", "zones:A/B", "zones:C/D"], limit=2)
    assert len(parse_channels(["signals", "signals", "zones:a/b"], limit=2)) == 2


class _Who:
    def __init__(self, plan: Plan, *, admin: bool = False) -> None:
        self.plan = plan
        self.is_admin = admin


def test_free_may_open_btc_channels_only_and_signals_always() -> None:
    free = _Who(Plan.FREE)
    assert refusal(free, parse_channel("signals")) is None
    assert refusal(free, parse_channel("zones:BTC/USDT")) is None
    assert "ETH/USDT" in (refusal(free, parse_channel("price:ETH/USDT:1h")) or "")
    assert refusal(_Who(Plan.PRO), parse_channel("price:ETH/USDT:1h")) is None


def test_signals_reach_free_late_and_only_when_built_from_its_zone_types() -> None:
    def signal(types: tuple[str, ...], symbol: str = "BTC/USDT") -> StreamItem:
        return StreamItem("signals", "signal", {}, symbol, 1, types)

    free, pro, admin = _Who(Plan.FREE), _Who(Plan.PRO), _Who(Plan.FREE, admin=True)
    assert visible(free, signal(("fvg",)))
    assert not visible(free, signal(("fvg", "order_block")))
    assert not visible(free, signal(("fvg",), "ETH/USDT"))
    assert not visible(pro, signal(()))  # an event that does not say: shown to nobody
    assert delay_seconds(free, signal(("fvg",))) == 600
    assert not replayable(free, signal(("fvg",)))
    assert delay_seconds(pro, signal(("fvg",))) == 0
    assert replayable(admin, signal(("fvg", "order_block"), "ETH/USDT"))
