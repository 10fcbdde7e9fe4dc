"""The one place that decides what a user may see and do: pages, JSON endpoints,
notifications and (later) the API all ask here. Admins are a role: they get every capability.
With plans disabled (``PLANS_ENABLED=false``, set once per process by ``configure``) every
subject gets Premium's allowances."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from cryptolens.domain.api_scopes import USER_SCOPES, RateLimits, Scope
from cryptolens.domain.errors import ForbiddenError, TierRequiredError
from cryptolens.domain.plans import (
    API_RATE_LIMITS,
    PLANS,
    Capability,
    Limit,
    Plan,
    PlanLimits,
    lowest_plan_with,
)
from cryptolens.domain.symbols import parse_symbol


class Subject(Protocol):
    """Whoever is asking: a plan (already expiry-checked) and a role."""

    @property
    def plan(self) -> Plan: ...

    @property
    def is_admin(self) -> bool: ...


@dataclass(slots=True)
class _Switches:
    plans_enabled: bool = True


_switches = _Switches()


def configure(*, plans_enabled: bool) -> None:
    """Set the process-wide policy switches (``runtime.build`` calls this from settings)."""
    _switches.plans_enabled = plans_enabled


def plans_enabled() -> bool:
    """False on an install without tiers: every account has everything."""
    return _switches.plans_enabled


def limits_for(user: Subject) -> PlanLimits:
    if user.is_admin or not _switches.plans_enabled:
        return PLANS[Plan.PREMIUM]
    return PLANS[user.plan]


def can(user: Subject, capability: Capability) -> bool:
    return limits_for(user).includes(capability)


def require(user: Subject, capability: Capability) -> None:
    """Raise TierRequiredError (403) naming the plan that includes ``capability``."""
    if not can(user, capability):
        raise TierRequiredError(capability.value, lowest_plan_with(capability).value)


def require_admin(user: Subject) -> None:
    if not user.is_admin:
        raise ForbiddenError("This page is for administrators.")


def limit(user: Subject, name: Limit) -> int | None:
    """A counted allowance; None means unlimited."""
    return limits_for(user).limit(name)


def patterns_page_limit(user: Subject) -> int | None:
    """Rows of the patterns page the user may see (None: all); raises if none at all."""
    require(user, Capability.PATTERNS_PAGE)
    return limit(user, Limit.PATTERNS_ROWS)


def signals_page_limit(user: Subject) -> int | None:
    """Rows of the signals page the user may see (None: all); raises if none at all."""
    require(user, Capability.SIGNALS_PAGE)
    return limit(user, Limit.SIGNALS_ROWS)


def pattern_types(user: Subject) -> frozenset[str]:
    return limits_for(user).pattern_types


def check_symbols(user: Subject, symbols: Iterable[str]) -> tuple[str, ...]:
    """Normalised, de-duplicated symbols within the plan; ValidationError/TierRequiredError."""
    chosen: list[str] = []
    for raw in symbols:
        if not raw.strip():
            continue
        symbol = parse_symbol(raw)
        if symbol not in chosen:
            chosen.append(symbol)
    limits = limits_for(user)
    if limits.allowed_symbols is not None:
        outside = [s for s in chosen if s not in limits.allowed_symbols]
        if outside:
            raise TierRequiredError(f"watching {outside[0]}", Plan.PRO.value)
    if limits.symbols is not None and len(chosen) > limits.symbols:
        better = Plan.PREMIUM if user.plan is Plan.PRO else Plan.PRO
        raise TierRequiredError(f"watching more than {limits.symbols} symbols", better.value)
    return tuple(chosen)


def visible_symbols(user: Subject) -> frozenset[str] | None:
    """Symbols whose market data (matrix, chart) the user may see; None: every symbol.

    Pro's count of symbols limits the watchlist (``check_symbols``), not what can be browsed.
    """
    return limits_for(user).allowed_symbols


def check_symbol_visible(user: Subject, symbol: str) -> str:
    """``symbol`` if the user may see its chart; raises TierRequiredError otherwise."""
    allowed = visible_symbols(user)
    if allowed is not None and symbol not in allowed:
        raise TierRequiredError(f"the {symbol} chart", Plan.PRO.value)
    return symbol


def visible_signals_limit(user: Subject) -> int | None:
    """Signals shown outside the signals page (chart levels, the dashboard's latest) follow it:
    none on Free, only those among
    the newest ``signals_rows`` on Pro, all on Premium (None)."""
    return limit(user, Limit.SIGNALS_ROWS)


def check_signal_visible(user: Subject, *, newer: int | None) -> None:
    """A signal with ``newer`` signals after it may be opened only within the plan's signals
    page (Free: never; Pro: the newest 50); raises TierRequiredError."""
    allowed = signals_page_limit(user)
    if allowed is not None and (newer is None or newer >= allowed):
        raise TierRequiredError(f"signals older than the newest {allowed}", Plan.PREMIUM.value)


def notification_limits(user: Subject) -> tuple[int | None, int]:
    """Alerts a day (None: unlimited) and the delay before each is sent, in seconds."""
    limits = limits_for(user)
    return limits.notifications_per_day, limits.notification_delay_seconds


def effective_daily_cap(user: Subject, user_cap: int | None) -> int | None:
    """The daily alert cap in force: the user's own cap may only lower the plan's."""
    plan_cap = limits_for(user).notifications_per_day
    if user_cap is None:
        return plan_cap
    return user_cap if plan_cap is None else min(plan_cap, user_cap)


def alert_allowed(user: Subject, *, symbol: str, pattern_types: Iterable[str]) -> bool:
    """Whether the plan shows a signal on ``symbol`` built from zones of ``pattern_types``:
    an alert tells no more than the user's pages would (Free: BTC/USDT fair value gaps)."""
    limits = limits_for(user)
    if limits.allowed_symbols is not None and symbol not in limits.allowed_symbols:
        return False
    return set(pattern_types) <= limits.pattern_types


def portfolio_trades_per_day(user: Subject) -> int | None:
    """New trades a day the plan allows (None: unlimited); raises TierRequiredError on a plan
    without portfolios."""
    require(user, Capability.PORTFOLIO)
    return limit(user, Limit.PORTFOLIO_TRADES_PER_DAY)


def check_portfolio_count(user: Subject, *, existing: int) -> None:
    """Whether one more portfolio fits the plan (Free: none, Pro: 1, Premium: any);
    raises TierRequiredError naming the plan that allows it."""
    require(user, Capability.PORTFOLIO)
    allowed = limit(user, Limit.PORTFOLIOS)
    if allowed is not None and existing >= allowed:
        noun = "portfolio" if allowed == 1 else "portfolios"
        raise TierRequiredError(f"more than {allowed} {noun}", Plan.PREMIUM.value)


def check_trades_today(user: Subject, *, made: int, adding: int) -> None:
    """Whether ``adding`` new trades after ``made`` today fit the plan's daily allowance;
    raises TierRequiredError saying how many remain."""
    allowed = portfolio_trades_per_day(user)
    if allowed is not None and made + adding > allowed:
        left = max(allowed - made, 0)
        raise TierRequiredError(
            f"more than {allowed} new trades a day ({left} left today)", Plan.PREMIUM.value
        )


def require_api(user: Subject) -> None:
    """API keys are for plans with the API (Premium) and admins; raises TierRequiredError."""
    require(user, Capability.API)


#: Scopes that need a capability of the plan besides the API itself.
SCOPE_CAPABILITIES: dict[Scope, Capability] = {
    Scope.READ_PORTFOLIO: Capability.PORTFOLIO,
    Scope.WRITE_PORTFOLIO: Capability.PORTFOLIO,
    Scope.READ_BACKTEST: Capability.BACKTEST,
    Scope.WRITE_BACKTEST: Capability.BACKTEST,
}


def api_scopes(user: Subject) -> frozenset[Scope]:
    """The scopes a key of ``user`` may hold: none without the API, admin scopes for admins
    only, and a scope of ``SCOPE_CAPABILITIES`` only on a plan with its capability."""
    if user.is_admin:
        return frozenset(Scope)
    if not can(user, Capability.API):
        return frozenset()
    return frozenset(
        s for s in USER_SCOPES if s not in SCOPE_CAPABILITIES or can(user, SCOPE_CAPABILITIES[s])
    )


def check_api_scopes(user: Subject, scopes: Iterable[Scope]) -> frozenset[Scope]:
    """``scopes`` if ``user`` may hold each; raises TierRequiredError without the API or
    naming a scope whose capability the plan lacks, and ForbiddenError naming an admin
    scope of a user who is not an admin."""
    require_api(user)
    allowed = api_scopes(user)
    chosen = frozenset(scopes)
    refused = sorted(chosen - allowed)
    if refused:
        scope = refused[0]
        needs = SCOPE_CAPABILITIES.get(scope)
        if needs is not None:
            raise TierRequiredError(f"the scope {scope.value}", lowest_plan_with(needs).value)
        raise ForbiddenError(f"The scope {scope.value} is for administrators.")
    return chosen


def api_rate_limits(user: Subject) -> RateLimits:
    """The plan's API request limits (the ceiling of a key's own)."""
    return API_RATE_LIMITS[limits_for(user).plan]
