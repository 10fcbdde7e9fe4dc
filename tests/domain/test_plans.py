"""The pricing page's feature lines, read from the plan limits."""

from __future__ import annotations

from dataclasses import replace

from cryptolens.domain.plans import PLANS, Plan, plan_features


def test_free_lists_its_one_symbol_its_zone_type_and_late_alerts() -> None:
    assert plan_features(PLANS[Plan.FREE]) == (
        "BTC/USDT only",
        "fvg zones",
        "1 alert a day, 10 minutes late",
    )


def test_pro_lists_its_counts_and_no_backtests_or_api() -> None:
    lines = plan_features(PLANS[Plan.PRO])
    assert lines == (
        "5 symbols",
        "Every zone type",
        "100 newest zones listed",
        "50 newest signals listed",
        "20 alerts a day, as they happen",
        "1 portfolio",
    )


def test_premium_is_unlimited_with_three_years_of_backtests_and_the_api() -> None:
    lines = plan_features(PLANS[Plan.PREMIUM])
    assert lines[0] == "Unlimited symbols"
    assert "Backtests over up to 3 years" in lines
    assert lines[-1] == "API keys"


def test_a_changed_limit_changes_the_page() -> None:
    wider = replace(PLANS[Plan.PRO], symbols=12, portfolios=3)
    assert plan_features(wider)[0] == "12 symbols"
    assert "3 portfolios" in plan_features(wider)
