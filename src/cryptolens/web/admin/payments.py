"""Admin payment pages: payments and subscriptions filtered by user and status, the webhook
events refused, and a manual grant with its reason. 404 while plans are not sold."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.billing import BillingPeriod, PaymentStatus
from cryptolens.domain.errors import CryptoLensError, NotFoundError
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts.accounts import find_account
from cryptolens.services.payments import admin as payments_admin
from cryptolens.web.access import admin_only
from cryptolens.web.admin import bp
from cryptolens.web.errors import form_error

Page = str | Response | tuple[str, int]
SUBSCRIPTIONS = "admin/subscriptions.html"


def _plans_are_sold() -> None:
    if not app_settings(current_app).plans_enabled:
        raise NotFound()


def _filter(name: str) -> str:
    return request.args.get(name, "").strip()


@bp.get("/payments")
@admin_only
def payments() -> Page:
    _plans_are_sold()
    email, status = _filter("email"), _filter("status")
    rows = payments_admin.list_payments(db.session(), email=email or None, status=status or None)
    return render_template(
        "admin/payments.html",
        rows=rows,
        email=email,
        status=status,
        statuses=[s.value for s in PaymentStatus],
    )


def _subscriptions_page(**extra: object) -> dict[str, object]:
    email, state = _filter("email"), _filter("state")
    rows = payments_admin.list_subscriptions(
        db.session(), now=utcnow(), email=email or None, state=state or None
    )
    return {
        "rows": rows,
        "email": email,
        "state": state,
        "states": payments_admin.SUBSCRIPTION_STATES,
        "periods": [p.value for p in BillingPeriod],
        **extra,
    }


@bp.get("/subscriptions")
@admin_only
def subscriptions() -> Page:
    _plans_are_sold()
    return render_template(SUBSCRIPTIONS, **_subscriptions_page())


@bp.post("/subscriptions/grant")
@admin_only
def grant_plan() -> Page:
    _plans_are_sold()
    form = request.form
    now = utcnow()
    try:
        with unit_of_work(db.session()) as work:
            account = find_account(work, email=form.get("email", "").strip(), now=now)
            if account is None:
                raise NotFoundError("No user has that email address.")
            payments_admin.grant_manually(
                work,
                user_id=account.id,
                plan=form.get("plan", ""),
                period=form.get("period", ""),
                reason=form.get("reason", ""),
                now=now,
            )
    except CryptoLensError as error:
        return form_error(SUBSCRIPTIONS, error, **_subscriptions_page(form=form))
    return redirect(url_for("admin.subscriptions", email=form.get("email", "").strip()))


@bp.get("/payments/events")
@admin_only
def payment_events() -> Page:
    _plans_are_sold()
    return render_template(
        "admin/payment_events.html",
        events=payments_admin.list_events(db.session(), outcome="rejected"),
        signatures=payments_admin.rejected_signatures(),
    )
