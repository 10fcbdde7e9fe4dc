"""Checkout, return and webhook routes: parse, call one service, answer."""

from __future__ import annotations

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.domain.billing import Provider
from cryptolens.extensions import csrf, db, limiter
from cryptolens.runtime import app_settings
from cryptolens.services.accounts.subscriptions import plan_status
from cryptolens.services.payments.checkout import ReturnUrls, start_checkout
from cryptolens.services.payments.lifecycle import Billing
from cryptolens.services.payments.providers import price_list, provider_for
from cryptolens.services.payments.webhooks import receive_webhook
from cryptolens.web.access import public
from cryptolens.web.mailer import app_mailer
from cryptolens.web.payments import bp
from cryptolens.web.serving import body_limit

#: Provider events are a few kilobytes; anything near this is not one.
WEBHOOK_MAX_BYTES = 64 * 1024
_TOO_LARGE = "A webhook body may have at most 64 KB."
OUTCOMES = {
    "success": "Thank you. Your payment is being confirmed: your plan changes as soon as the "
    "provider confirms it (usually within a minute; crypto payments wait for confirmations).",
    "cancel": "The checkout was cancelled: nothing was charged and your account is unchanged.",
    "failed": "The payment did not go through: nothing was charged and your account is "
    "unchanged. You can try again.",
}


@bp.before_request
def _plans_are_sold() -> None:
    if not app_settings(current_app).plans_enabled:
        raise NotFound()


@bp.post("/checkout")
@limiter.limit("30/hour")
def checkout() -> Response:
    settings = app_settings(current_app)
    provider = request.form.get("provider", "")
    base = settings.resolved_public_url
    urls = ReturnUrls(
        success=base + url_for("payments.checkout_return", provider=provider, outcome="success"),
        cancel=base + url_for("payments.checkout_return", provider=provider, outcome="cancel"),
        webhook=base + url_for("payments.webhook_nowpayments"),
    )
    found = start_checkout(
        settings,
        user_id=current_user.account.id,
        email=current_user.account.email,
        plan=request.form.get("plan", ""),
        period=request.form.get("period", ""),
        provider=provider,
        pay_currency=request.form.get("coin"),
        urls=urls,
    )
    return redirect(found.url, code=303)


@bp.get("/return")
def checkout_return() -> tuple[str, int]:
    outcome = request.args.get("outcome", "")
    message = OUTCOMES.get(outcome, OUTCOMES["failed"])
    status = plan_status(db.session(), user_id=current_user.account.id, now=utcnow())
    return render_template(
        "payments/return.html", outcome=outcome, message=message, status=status
    ), 200


def _webhook(name: Provider) -> tuple[Response, int]:
    settings = app_settings(current_app)
    answer = receive_webhook(
        db.session(),
        provider=provider_for(settings, name.value),
        raw_body=request.get_data(cache=False),
        headers=dict(request.headers),
        billing=Billing(price_list(settings), app_mailer()),
        now=utcnow(),
    )
    db.session.commit()  # the stored event (a rejected one too) and what it changed
    return jsonify(outcome=answer.outcome, detail=answer.detail), answer.status


@bp.post("/webhooks/lemonsqueezy")
@public
@body_limit(WEBHOOK_MAX_BYTES, _TOO_LARGE)
def webhook_lemonsqueezy() -> tuple[Response, int]:
    return _webhook(Provider.LEMONSQUEEZY)


@bp.post("/webhooks/nowpayments")
@public
@body_limit(WEBHOOK_MAX_BYTES, _TOO_LARGE)
def webhook_nowpayments() -> tuple[Response, int]:
    return _webhook(Provider.NOWPAYMENTS)


# Providers cannot send a CSRF token: the signature is what authenticates them.
for _view in (webhook_lemonsqueezy, webhook_nowpayments):
    csrf.exempt(_view)
