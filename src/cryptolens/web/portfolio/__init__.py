"""The trader's own portfolios: trades with their fills, tags and journal, analytics with the
equity curve, CSV export and import. Thin routes onto ``services.portfolio``; every id in a
path is checked against the signed-in owner by the services (another owner's id: 404)."""

from __future__ import annotations

from flask import Blueprint

from cryptolens.domain.plans import Capability
from cryptolens.services.accounts import policy
from cryptolens.web.principal import current_principal

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio")


@bp.before_request
def _plan_includes_portfolio() -> None:
    """Every portfolio page needs a plan with the portfolio (Free: 403 with an upgrade link);
    the sign-in gate has already run."""
    policy.require(current_principal(), Capability.PORTFOLIO)


@bp.app_context_processor
def _portfolio_link() -> dict[str, object]:
    """Whether pages offer the portfolio (the nav link, "Take this trade"): plans that include
    it, and everyone when plans are off."""
    principal = current_principal()
    return {
        "portfolio_enabled": principal.is_authenticated
        and policy.can(principal, Capability.PORTFOLIO)
    }


from cryptolens.web.portfolio import (  # noqa: E402,F401  (registers routes)
    analytics,
    journal,
    portfolios,
    trades,
    transfer,
)
