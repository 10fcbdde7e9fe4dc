from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from cryptolens.domain.api_scopes import Scope
from cryptolens.domain.errors import ForbiddenError, TierRequiredError, ValidationError
from cryptolens.domain.plans import PLANS, Capability, Limit, Plan, lowest_plan_with
from cryptolens.services.accounts import policy


@dataclass(frozen=True)
class Who:
    plan: Plan
    is_admin: bool = False


FREE, PRO, PREMIUM = Who(Plan.FREE), Who(Plan.PRO), Who(Plan.PREMIUM)
ADMIN_ON_FREE = Who(Plan.FREE, is_admin=True)


def test_the_pages_follow_the_tier_table() -> None:
    with pytest.raises(TierRequiredError, match="needs the Pro plan"):
        policy.patterns_page_limit(FREE)
    with pytest.raises(TierRequiredError):
        policy.signals_page_limit(FREE)
    assert policy.patterns_page_limit(PRO) == 100
    assert policy.signals_page_limit(PRO) == 50
    assert policy.patterns_page_limit(PREMIUM) is None
    assert policy.signals_page_limit(PREMIUM) is None


def test_backtest_and_api_are_premium_only() -> None:
    for capability in (Capability.BACKTEST, Capability.API):
        assert [policy.can(w, capability) for w in (FREE, PRO, PREMIUM)] == [False, False, True]
        assert lowest_plan_with(capability) is Plan.PREMIUM
    with pytest.raises(TierRequiredError, match="needs the Premium plan"):
        policy.require(PRO, Capability.API)


def test_notification_and_portfolio_allowances() -> None:
    assert policy.limit(FREE, Limit.NOTIFICATIONS_PER_DAY) == 1
    assert policy.limit(FREE, Limit.NOTIFICATION_DELAY_SECONDS) == 600
    assert policy.limit(PRO, Limit.NOTIFICATIONS_PER_DAY) == 20
    assert policy.limit(PREMIUM, Limit.NOTIFICATIONS_PER_DAY) is None
    assert not policy.can(FREE, Capability.PORTFOLIO)
    assert policy.limit(PRO, Limit.PORTFOLIOS) == 1
    assert policy.limit(PRO, Limit.PORTFOLIO_TRADES_PER_DAY) == 5
    assert policy.limit(PREMIUM, Limit.PORTFOLIOS) is None


def test_free_sees_only_fair_value_gaps() -> None:
    assert policy.pattern_types(FREE) == {"fvg"}
    assert policy.pattern_types(PRO) == {"fvg", "order_block", "liquidity_sweep"}


def test_symbols_are_limited_per_plan() -> None:
    assert policy.check_symbols(FREE, ["btc/usdt", "BTC/USDT"]) == ("BTC/USDT",)
    with pytest.raises(TierRequiredError):
        policy.check_symbols(FREE, ["ETH/USDT"])
    five = [f"C{i}/USDT" for i in range(5)]
    assert len(policy.check_symbols(PRO, five)) == 5
    with pytest.raises(TierRequiredError, match="Premium"):
        policy.check_symbols(PRO, [*five, "X/USDT"])
    assert len(policy.check_symbols(PREMIUM, [f"C{i}/USDT" for i in range(50)])) == 50
    with pytest.raises(ValidationError):
        policy.check_symbols(PREMIUM, ["BTCUSDT"])


def test_admins_are_a_role_with_every_capability_whatever_their_plan() -> None:
    assert all(policy.can(ADMIN_ON_FREE, c) for c in Capability)
    policy.require_admin(ADMIN_ON_FREE)
    with pytest.raises(ForbiddenError):
        policy.require_admin(PREMIUM)


def test_the_plan_table_is_ranked_free_pro_premium() -> None:
    assert [PLANS[p].rank for p in (Plan.FREE, Plan.PRO, Plan.PREMIUM)] == [0, 1, 2]


def test_market_data_is_btc_and_fvg_only_on_free() -> None:
    assert policy.visible_symbols(FREE) == frozenset({"BTC/USDT"})
    assert policy.visible_symbols(PRO) is None
    assert policy.visible_symbols(ADMIN_ON_FREE) is None
    assert policy.check_symbol_visible(FREE, "BTC/USDT") == "BTC/USDT"
    with pytest.raises(TierRequiredError, match="ETH/USDT chart needs the Pro plan"):
        policy.check_symbol_visible(FREE, "ETH/USDT")
    assert policy.check_symbol_visible(PRO, "ETH/USDT") == "ETH/USDT"
    assert policy.pattern_types(FREE) == frozenset({"fvg"})


def test_signals_outside_the_signals_page_follow_its_window() -> None:
    assert [policy.visible_signals_limit(w) for w in (FREE, PRO, PREMIUM)] == [0, 50, None]
    with pytest.raises(TierRequiredError, match="needs the Pro plan"):
        policy.check_signal_visible(FREE, newer=0)
    policy.check_signal_visible(PRO, newer=49)
    with pytest.raises(TierRequiredError, match="newest 50 needs the Premium plan"):
        policy.check_signal_visible(PRO, newer=50)
    policy.check_signal_visible(PREMIUM, newer=None)
    policy.check_signal_visible(ADMIN_ON_FREE, newer=None)


@pytest.fixture
def plans_disabled() -> Iterator[None]:
    policy.configure(plans_enabled=False)
    yield
    policy.configure(plans_enabled=True)


def test_without_plans_a_free_user_gets_premium_limits(plans_disabled: None) -> None:
    assert not policy.plans_enabled()
    assert policy.limits_for(FREE) == PLANS[Plan.PREMIUM]
    assert policy.patterns_page_limit(FREE) is None
    assert policy.check_symbols(FREE, ["ETH/USDT"]) == ("ETH/USDT",)
    assert policy.notification_limits(FREE) == (None, 0)
    assert policy.alert_allowed(FREE, symbol="ETH/USDT", pattern_types=["order_block"])


def test_with_plans_enabled_a_free_user_keeps_free_limits() -> None:
    policy.configure(plans_enabled=True)
    assert policy.plans_enabled()
    assert policy.limits_for(FREE) == PLANS[Plan.FREE]
    with pytest.raises(TierRequiredError):
        policy.patterns_page_limit(FREE)


def test_notification_limits_follow_the_plan() -> None:
    assert policy.notification_limits(FREE) == (1, 600)
    assert policy.notification_limits(PRO) == (20, 0)
    assert policy.notification_limits(PREMIUM) == (None, 0)
    assert policy.notification_limits(ADMIN_ON_FREE) == (None, 0)


@pytest.mark.parametrize(
    ("who", "user_cap", "cap"),
    [
        (PRO, None, 20),
        (PRO, 5, 5),
        (PRO, 50, 20),  # a user's own cap only lowers the plan's
        (FREE, 10, 1),
        (PREMIUM, None, None),
        (PREMIUM, 7, 7),
        (ADMIN_ON_FREE, None, None),
    ],
)
def test_a_users_daily_cap_can_only_lower_the_plans(
    who: Who, user_cap: int | None, cap: int | None
) -> None:
    assert policy.effective_daily_cap(who, user_cap) == cap


@pytest.mark.parametrize(
    ("who", "symbol", "types", "allowed"),
    [
        (FREE, "BTC/USDT", ["fvg"], True),
        (FREE, "ETH/USDT", ["fvg"], False),
        (FREE, "BTC/USDT", ["fvg", "order_block"], False),
        (PRO, "ETH/USDT", ["order_block", "liquidity_sweep"], True),
        (PREMIUM, "DOGE/USDT", ["fvg"], True),
        (ADMIN_ON_FREE, "ETH/USDT", ["order_block"], True),
    ],
)
def test_alerts_tell_no_more_than_the_plan_shows(
    who: Who, symbol: str, types: list[str], allowed: bool
) -> None:
    assert policy.alert_allowed(who, symbol=symbol, pattern_types=types) is allowed


def test_portfolios_follow_the_tier_table() -> None:
    with pytest.raises(TierRequiredError, match="Portfolio needs the Pro plan"):
        policy.check_portfolio_count(FREE, existing=0)
    policy.check_portfolio_count(PRO, existing=0)
    with pytest.raises(TierRequiredError, match="More than 1 portfolio needs the Premium plan"):
        policy.check_portfolio_count(PRO, existing=1)
    policy.check_portfolio_count(PREMIUM, existing=500)
    policy.check_portfolio_count(ADMIN_ON_FREE, existing=500)


def test_new_trades_a_day_follow_the_tier_table() -> None:
    with pytest.raises(TierRequiredError, match="Pro plan"):
        policy.check_trades_today(FREE, made=0, adding=1)
    policy.check_trades_today(PRO, made=4, adding=1)
    with pytest.raises(TierRequiredError, match=r"5 new trades a day \(2 left today\)"):
        policy.check_trades_today(PRO, made=3, adding=3)
    assert policy.portfolio_trades_per_day(PRO) == 5
    assert policy.portfolio_trades_per_day(PREMIUM) is None
    policy.check_trades_today(PREMIUM, made=10_000, adding=10_000)


def test_without_plans_portfolios_and_trades_are_unlimited(plans_disabled: None) -> None:
    policy.check_portfolio_count(FREE, existing=50)
    policy.check_trades_today(FREE, made=50, adding=50)


def test_backtest_scopes_need_the_backtest_capability(monkeypatch: pytest.MonkeyPatch) -> None:
    backtest = {Scope.READ_BACKTEST, Scope.WRITE_BACKTEST}
    assert backtest <= policy.api_scopes(PREMIUM)
    assert backtest <= policy.api_scopes(ADMIN_ON_FREE)
    assert policy.check_api_scopes(PREMIUM, backtest) == backtest
    # A plan with the API but without backtests (none today) may hold the other scopes only.
    monkeypatch.setitem(PLANS, Plan.PRO, replace(PLANS[Plan.PRO], api=True))
    assert not policy.api_scopes(PRO) & backtest
    assert Scope.READ_SIGNALS in policy.api_scopes(PRO)
    with pytest.raises(TierRequiredError, match="scope write:backtest needs the Premium plan"):
        policy.check_api_scopes(PRO, [Scope.READ_SIGNALS, Scope.WRITE_BACKTEST])
    with pytest.raises(ForbiddenError, match="for administrators"):
        policy.check_api_scopes(PREMIUM, [Scope.ADMIN_SCHEDULER])
