"""Subscription plans and their limits: the one declarative definition the ``plans`` table
mirrors (seeded by migration 0004) and the policy service enforces."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cryptolens.domain.api_scopes import RateLimits
from cryptolens.domain.enums import PatternType


class Plan(StrEnum):
    FREE = "free"
    PRO = "pro"
    PREMIUM = "premium"


class Capability(StrEnum):
    """Things a plan either includes or not."""

    PATTERNS_PAGE = "patterns_page"
    SIGNALS_PAGE = "signals_page"
    PORTFOLIO = "portfolio"
    BACKTEST = "backtest"
    API = "api"


class Limit(StrEnum):
    """Counted allowances; ``None`` in a plan means unlimited."""

    SYMBOLS = "symbols"
    PATTERNS_ROWS = "patterns_rows"
    SIGNALS_ROWS = "signals_rows"
    NOTIFICATIONS_PER_DAY = "notifications_per_day"
    NOTIFICATION_DELAY_SECONDS = "notification_delay_seconds"
    PORTFOLIOS = "portfolios"
    PORTFOLIO_TRADES_PER_DAY = "portfolio_trades_per_day"
    BACKTEST_DAYS = "backtest_days"


ALL_PATTERN_TYPES: frozenset[str] = frozenset(PatternType)
#: Premium's longest backtest: three years (a leap year included).
BACKTEST_DAYS_PREMIUM = 3 * 365 + 1


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What one plan allows. ``None`` = unlimited; ``0`` = not included."""

    plan: Plan
    rank: int
    title: str
    symbols: int | None
    allowed_symbols: frozenset[str] | None  # None: any symbol (up to ``symbols``)
    pattern_types: frozenset[str]
    patterns_rows: int | None
    signals_rows: int | None
    notifications_per_day: int | None
    notification_delay_seconds: int
    portfolios: int | None
    portfolio_trades_per_day: int | None
    backtest: bool
    #: Longest range one backtest may cover, in days (``None``: any).
    backtest_days: int | None
    api: bool

    def limit(self, name: Limit) -> int | None:
        value: int | None = getattr(self, name.value)
        return value

    def includes(self, capability: Capability) -> bool:
        if capability is Capability.PATTERNS_PAGE:
            return self.patterns_rows != 0
        if capability is Capability.SIGNALS_PAGE:
            return self.signals_rows != 0
        if capability is Capability.PORTFOLIO:
            return self.portfolios != 0
        if capability is Capability.BACKTEST:
            return self.backtest
        return self.api


PLANS: dict[Plan, PlanLimits] = {
    Plan.FREE: PlanLimits(
        plan=Plan.FREE,
        rank=0,
        title="Free",
        symbols=1,
        allowed_symbols=frozenset({"BTC/USDT"}),
        pattern_types=frozenset({PatternType.FVG.value}),
        patterns_rows=0,
        signals_rows=0,
        notifications_per_day=1,
        notification_delay_seconds=600,
        portfolios=0,
        portfolio_trades_per_day=0,
        backtest=False,
        backtest_days=0,
        api=False,
    ),
    Plan.PRO: PlanLimits(
        plan=Plan.PRO,
        rank=1,
        title="Pro",
        symbols=5,
        allowed_symbols=None,
        pattern_types=ALL_PATTERN_TYPES,
        patterns_rows=100,
        signals_rows=50,
        notifications_per_day=20,
        notification_delay_seconds=0,
        portfolios=1,
        portfolio_trades_per_day=5,
        backtest=False,
        backtest_days=0,
        api=False,
    ),
    Plan.PREMIUM: PlanLimits(
        plan=Plan.PREMIUM,
        rank=2,
        title="Premium",
        symbols=None,
        allowed_symbols=None,
        pattern_types=ALL_PATTERN_TYPES,
        patterns_rows=None,
        signals_rows=None,
        notifications_per_day=None,
        notification_delay_seconds=0,
        portfolios=None,
        portfolio_trades_per_day=None,
        backtest=True,
        backtest_days=BACKTEST_DAYS_PREMIUM,
        api=True,
    ),
}


#: API requests per minute, hour and day of a plan that includes the API (admins: Premium's);
#: a key may set lower limits of its own, never higher.
API_RATE_LIMITS: dict[Plan, RateLimits] = {
    Plan.FREE: RateLimits(0, 0, 0),
    Plan.PRO: RateLimits(0, 0, 0),
    Plan.PREMIUM: RateLimits(minute=200, hour=5000, day=50_000),
}


def lowest_plan_with(capability: Capability) -> Plan:
    """The cheapest plan that includes ``capability``."""
    for limits in sorted(PLANS.values(), key=lambda p: p.rank):
        if limits.includes(capability):
            return limits.plan
    raise LookupError(capability)


def _count(value: int | None, one: str, many: str) -> str:
    if value is None:
        return f"Unlimited {many}"
    return f"{value} {one if value == 1 else many}"


def plan_features(limits: PlanLimits) -> tuple[str, ...]:
    """What ``limits`` includes, one line each, as the pricing page lists it."""
    if limits.allowed_symbols is not None:
        symbols = f"{', '.join(sorted(limits.allowed_symbols))} only"
    else:
        symbols = _count(limits.symbols, "symbol", "symbols")
    every_type = limits.pattern_types == ALL_PATTERN_TYPES
    lines = [
        symbols,
        "Every zone type" if every_type else f"{', '.join(sorted(limits.pattern_types))} zones",
    ]
    if limits.patterns_rows != 0:
        lines.append(_count(limits.patterns_rows, "newest zone", "newest zones") + " listed")
    if limits.signals_rows != 0:
        lines.append(_count(limits.signals_rows, "newest signal", "newest signals") + " listed")
    alerts = _count(limits.notifications_per_day, "alert", "alerts") + " a day"
    delay = limits.notification_delay_seconds
    lines.append(alerts + (f", {delay // 60} minutes late" if delay else ", as they happen"))
    if limits.portfolios != 0:
        lines.append(_count(limits.portfolios, "portfolio", "portfolios"))
    if limits.backtest:
        years = (limits.backtest_days or 0) // 365
        lines.append(f"Backtests over up to {years} years" if years else "Backtests")
    if limits.api:
        lines.append("API keys")
    return tuple(lines)
