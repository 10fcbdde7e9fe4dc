from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cryptolens.backtest.engine import run_backtest
from cryptolens.backtest.params import run_params
from cryptolens.config import Settings
from cryptolens.detect import Candles
from cryptolens.domain.errors import NotFoundError, ValidationError
from cryptolens.domain.plans import PLANS, Plan
from cryptolens.services.backtests.run import check_request, check_stored, run_stored_backtest

pytestmark = pytest.mark.db


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def test_a_stored_backtest_is_the_engine_on_the_stored_candles_with_the_live_rules(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    since, until = _moment(int(stored_btc.open_time[0])), _moment(int(stored_btc.open_time[-1]))
    request = check_request(
        symbol="BTC/USDT", since=since, until=until, params={"min_confluence": "2"}
    )
    stages: list[tuple[float, str]] = []
    result = run_stored_backtest(
        migrated_engine, scan_settings, request, progress=lambda f, s: stages.append((f, s))
    )
    chosen = run_params(request.params, signals=scan_settings.signal_params())
    expected = run_backtest(
        stored_btc[: len(stored_btc) - 1],  # until is exclusive: the last hour is left out
        base_timeframe="1h",
        timeframes=scan_settings.timeframes,
        symbol="BTC/USDT",
        signals=chosen.signals,
        execution=chosen.execution,
    )
    assert result.trades == expected.trades
    assert len(result.trades) > 0
    assert result.final_equity == expected.final_equity
    assert [f for f, _ in stages] == sorted(f for f, _ in stages)
    assert stages[-1][0] == 1.0


def test_a_range_with_no_stored_candles_is_refused_by_name(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    request = check_request(
        symbol="BTC/USDT",
        since=datetime(2030, 1, 1, tzinfo=UTC),
        until=datetime(2030, 2, 1, tzinfo=UTC),
        params={},
    )
    with pytest.raises(ValidationError, match="no stored 1h candles for BTC/USDT"):
        run_stored_backtest(migrated_engine, scan_settings, request)


def test_a_symbol_that_is_not_watched_is_not_found(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    since = _moment(int(stored_btc.open_time[0]))
    request = check_request(
        symbol="DOGE/USDT", since=since, until=since + timedelta(days=5), params={}
    )
    with pytest.raises(NotFoundError, match="DOGE/USDT"):
        run_stored_backtest(migrated_engine, scan_settings, request)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"until": datetime(2017, 12, 31, tzinfo=UTC)}, "until must be after since"),
        ({"until": datetime(2021, 1, 2, tzinfo=UTC)}, "Premium plan allows backtests of up to"),
        ({"params": {"min_confluence": "0"}}, "min_confluence must be between 1 and 8"),
        ({"params": {"bogus": "1"}}, "unknown backtest parameter bogus"),
        ({"symbol": "  "}, "symbol is required"),
    ],
)
def test_bad_requests_are_refused_before_any_work(change: dict[str, object], message: str) -> None:
    request: dict[str, object] = {
        "symbol": "BTC/USDT",
        "since": datetime(2018, 1, 1, tzinfo=UTC),
        "until": datetime(2019, 1, 1, tzinfo=UTC),
        "params": {},
        "limits": PLANS[Plan.PREMIUM],
    }
    with pytest.raises(ValidationError, match=message):
        check_request(**(request | change))  # type: ignore[arg-type]


def test_a_plan_without_a_range_limit_takes_any_range() -> None:
    request = check_request(
        symbol="BTC/USDT",
        since=datetime(2014, 1, 1),
        until=datetime(2020, 1, 1),
        params={},
        limits=None,
    )
    assert request.since.tzinfo is UTC


def test_check_stored_finds_what_a_run_would_fail_on_before_it_is_queued(
    migrated_engine: Engine, scan_settings: Settings, stored_btc: Candles
) -> None:
    first = _moment(int(stored_btc.open_time[0]))
    ranges = {
        "BTC/USDT": (first - timedelta(days=3), first + timedelta(hours=1)),  # one candle in
        "empty": (first - timedelta(days=3), first),  # until is exclusive: none
        "DOGE/USDT": (first, first + timedelta(days=5)),
    }
    with Session(migrated_engine) as session:
        since, until = ranges["BTC/USDT"]
        request = check_request(symbol="BTC/USDT", since=since, until=until, params={})
        check_stored(session, scan_settings, request)
        since, until = ranges["empty"]
        request = check_request(symbol="BTC/USDT", since=since, until=until, params={})
        with pytest.raises(ValidationError, match="no stored 1h candles for BTC/USDT"):
            check_stored(session, scan_settings, request)
        since, until = ranges["DOGE/USDT"]
        request = check_request(symbol="DOGE/USDT", since=since, until=until, params={})
        with pytest.raises(NotFoundError, match="DOGE/USDT"):
            check_stored(session, scan_settings, request)
