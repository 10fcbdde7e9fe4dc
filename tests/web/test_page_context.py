"""What every page shows from the settings: where its prices come from (the demo names its
replayed data honestly) and only the configured timeframes in filter menus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from cryptolens.config import Settings
from cryptolens.services.ops.demo import market_source
from tests.builders.settings import make_settings

_TIMEFRAME_MENU = re.compile(r'<select name="timeframe">(.*?)</select>', re.S)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The demo's settings (``make run``): the simulator's URL and hourly timeframes."""
    return make_settings(
        database_url=database_url,
        instance_dir=tmp_path / "instance",
        exchange_api_url="http://127.0.0.1:8765",
        base_timeframe="1h",
        timeframes=("1h", "4h"),
    )


def test_demo_pages_say_the_data_is_replayed_coinbase_history_not_live_binance(
    client: FlaskClient, premium: FlaskClient
) -> None:
    for page in (client.get("/auth/login"), premium.get("/")):
        text = page.get_data(as_text=True)
        assert "replayed Coinbase BTC/USD hourly history" in text
        assert "served as BTC/USDT by the local simulator, not live binance prices" in text


def test_without_the_simulator_the_footer_names_the_exchange() -> None:
    line = market_source(exchange_id="kraken", exchange_api_url=None, symbols=("BTC/USD",))
    assert line == "market data from kraken through CCXT"


def test_patterns_timeframe_menu_offers_only_the_configured_timeframes(
    premium: FlaskClient,
) -> None:
    menu = _TIMEFRAME_MENU.search(premium.get("/patterns").get_data(as_text=True))
    assert menu
    assert re.findall(r"<option[^>]*>([^<]+)</option>", menu.group(1)) == ["any", "1h", "4h"]
