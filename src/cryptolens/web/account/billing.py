"""The account's plan, bought subscriptions and payment history, and the cancel button."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user
from werkzeug.exceptions import NotFound

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.plans import PLANS
from cryptolens.extensions import db, limiter
from cryptolens.runtime import app_settings
from cryptolens.services.payments.billing import billing_summary, cancel_at_period_end
from cryptolens.services.payments.providers import configured_providers, price_list
from cryptolens.web.account import bp
from cryptolens.web.security import allow_form_targets


def _plans_are_sold() -> None:
    if not app_settings(current_app).plans_enabled:
        raise NotFound()


@bp.get("/billing")
def billing() -> str:
    _plans_are_sold()
    settings = app_settings(current_app)
    summary = billing_summary(db.session(), user_id=current_user.account.id, now=utcnow())
    providers = sorted(p.value for p in configured_providers(settings))
    if providers:
        allow_form_targets(settings.payment_page_origins)
    return render_template(
        "account/billing.html",
        summary=summary,
        plans=PLANS,
        prices=price_list(settings).all(),
        providers=providers,
    )


@bp.post("/billing/subscriptions/<int:subscription_id>/cancel")
@limiter.limit("10/hour")
def cancel_subscription(subscription_id: int) -> str:
    _plans_are_sold()
    settings = app_settings(current_app)
    with unit_of_work(db.session()) as work:
        ends = cancel_at_period_end(
            work,
            user_id=current_user.account.id,
            subscription_id=subscription_id,
            providers=configured_providers(settings),
        )
    until = f" until {ends:%Y-%m-%d %H:%M} UTC" if ends else ""
    return render_template(
        "account/done.html", message=f"Cancelled: your plan stays{until} and will not renew."
    )
