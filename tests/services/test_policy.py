from __future__ import annotations

from dataclasses import dataclass

import pytest

from cryptolens.domain.errors import ForbiddenError, TierRequiredError, ValidationError
from cryptolens.domain.plans import PLANS, Capability, Limit, Plan, lowest_plan_with
from cryptolens.services import policy


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
