"""Pricing, terms and privacy: public pages. Pricing exists only while plans are sold."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PrefixLoader
from werkzeug.exceptions import NotFound

from cryptolens.domain.billing import BillingPeriod
from cryptolens.domain.plans import PLANS, plan_features
from cryptolens.runtime import app_settings
from cryptolens.services.payments.providers import configured_providers, price_list
from cryptolens.web.access import public
from cryptolens.web.security import allow_form_targets
from cryptolens.web.site import bp

#: The templates an operator may replace: ``<INSTANCE_DIR>/legal/<name>``.
LEGAL_FOLDER = "legal"


def register(app: Flask) -> None:
    """Look up ``legal/*.html`` in the instance folder first, so an operator's own terms
    and privacy notice replace the shipped placeholders without touching the package."""
    shipped: BaseLoader | None = app.jinja_loader
    own = PrefixLoader({LEGAL_FOLDER: FileSystemLoader(f"{app.instance_path}/{LEGAL_FOLDER}")})
    app.jinja_loader = ChoiceLoader([own, *([shipped] if shipped else [])])


@bp.get("/pricing")
@public
def pricing() -> str:
    settings = app_settings(current_app)
    if not settings.plans_enabled:
        raise NotFound()
    prices = price_list(settings).all()
    providers = sorted(p.value for p in configured_providers(settings))
    if providers:
        allow_form_targets(settings.payment_page_origins)
    return render_template(
        "site/pricing.html",
        plans=sorted(PLANS.values(), key=lambda p: p.rank),
        prices={(p.plan, p.period): p for p in prices},
        periods=tuple(BillingPeriod),
        providers=providers,
        features=plan_features,
    )


@bp.get("/terms")
@public
def terms() -> str:
    return render_template("site/legal.html", page="legal/terms.html", title="Terms of use")


@bp.get("/privacy")
@public
def privacy() -> str:
    return render_template("site/legal.html", page="legal/privacy.html", title="Privacy")
