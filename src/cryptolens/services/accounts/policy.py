"""The one place that decides what a user may see and do: pages, JSON endpoints and (later)
notifications and the API all ask here. Admins are a role: they get every capability."""

from __future__ import annotations

from collections.abc import Iterable
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


def limits_for(user: Subject) -> PlanLimits:
    return PLANS[Plan.PREMIUM] if user.is_admin else PLANS[user.plan]


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


def require_api(user: Subject) -> None:
    """API keys are for plans with the API (Premium) and admins; raises TierRequiredError."""
    require(user, Capability.API)


def api_scopes(user: Subject) -> frozenset[Scope]:
    """The scopes a key of ``user`` may hold (none without the API; admin scopes for admins)."""
    if user.is_admin:
        return frozenset(Scope)
    return USER_SCOPES if can(user, Capability.API) else frozenset()


def check_api_scopes(user: Subject, scopes: Iterable[Scope]) -> frozenset[Scope]:
    """``scopes`` if ``user`` may hold each; raises TierRequiredError without the API, and
    ForbiddenError naming an admin scope of a user who is not an admin."""
    require_api(user)
    allowed = api_scopes(user)
    chosen = frozenset(scopes)
    refused = sorted(chosen - allowed)
    if refused:
        raise ForbiddenError(f"The scope {refused[0]} is for administrators.")
    return chosen


def api_rate_limits(user: Subject) -> RateLimits:
    """The plan's API request limits (the ceiling of a key's own)."""
    return API_RATE_LIMITS[limits_for(user).plan]
