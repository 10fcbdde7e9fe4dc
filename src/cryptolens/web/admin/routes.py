"""Admin pages: every view here is ``admin_only``."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cryptolens.db.base import utcnow
from cryptolens.domain.errors import CryptoLensError, ValidationError
from cryptolens.domain.jobs import JOBS
from cryptolens.extensions import db
from cryptolens.services import accounts, admin
from cryptolens.services.job_runs import recent_runs
from cryptolens.services.subscriptions import grant_subscription
from cryptolens.web.access import admin_only
from cryptolens.web.admin import bp
from cryptolens.web.errors import form_error

Page = str | Response | tuple[str, int]


@bp.route("/settings", methods=["GET", "POST"])
@admin_only
def settings() -> Page:
    if request.method == "POST":
        try:
            admin.set_setting(
                db.session(),
                key=request.form.get("key", ""),
                value=request.form.get("value", ""),
                now=utcnow(),
            )
        except CryptoLensError as error:
            db.session.rollback()
            return form_error(
                "admin/settings.html", error, settings=admin.list_settings(db.session())
            )
        db.session.commit()
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", settings=admin.list_settings(db.session()))


@bp.get("/users")
@admin_only
def users() -> Page:
    return render_template("admin/users.html", users=admin.list_users(db.session(), now=utcnow()))


@bp.post("/users/<int:user_id>/active")
@admin_only
def set_active(user_id: int) -> Page:
    accounts.set_active(db.session(), user_id=user_id, active=request.form.get("active") == "on")
    db.session.commit()
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/subscription")
@admin_only
def subscribe(user_id: int) -> Page:
    days = request.form.get("days", "30")
    if not days.isdigit() or not 1 <= int(days) <= 3660:
        raise ValidationError("Days must be a whole number from 1 to 3660.")
    accounts.require_user(db.session(), user_id=user_id)
    now = utcnow()
    grant_subscription(
        db.session(),
        user_id=user_id,
        plan=request.form.get("plan", ""),
        started_at=now,
        expires_at=now + timedelta(days=int(days)),
    )
    db.session.commit()
    return redirect(url_for("admin.users"))


@bp.get("/jobs")
@admin_only
def jobs() -> Page:
    return render_template(
        "admin/jobs.html", jobs=JOBS, runs=recent_runs(db.engine, name=None, limit=50)
    )
