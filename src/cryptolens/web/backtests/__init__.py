"""Backtests of stored history: the form, the user's runs, one run's page with its progress,
metrics, curves, trades on the price chart and CSV, and share links. Thin routes onto
``services.backtests``; the plan check runs before every page, except that any signed-in
user holding a run's share link may open that run (``store.visible_run`` checks the link)."""

from __future__ import annotations

from flask import Blueprint, request

from cryptolens.domain.plans import Capability
from cryptolens.services.accounts import policy
from cryptolens.web.principal import current_principal

bp = Blueprint("backtests", __name__, url_prefix="/backtests")

#: Pages a share link opens (a run, its progress and its CSV).
SHARED_ENDPOINTS = frozenset({"backtests.run", "backtests.status", "backtests.trades_csv"})


@bp.before_request
def _plan_includes_backtests() -> None:
    """Backtests need a plan with them (others: 403 with an upgrade link), unless the
    request opens a shared run by its link; the sign-in gate has already run."""
    if request.endpoint in SHARED_ENDPOINTS and request.args.get("share"):
        return
    policy.require(current_principal(), Capability.BACKTEST)


@bp.app_context_processor
def _backtests_link() -> dict[str, object]:
    """Whether the nav offers backtests: plans that include them, everyone when plans are
    off."""
    principal = current_principal()
    return {
        "backtests_enabled": principal.is_authenticated
        and policy.can(principal, Capability.BACKTEST)
    }


from cryptolens.web.backtests import routes  # noqa: E402,F401  (registers routes)
