"""Admin pages: every view here is ``admin_only``."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import ConflictError, CryptoLensError, ValidationError
from cryptolens.domain.jobs import JOBS
from cryptolens.extensions import db
from cryptolens.services.accounts import accounts
from cryptolens.services.accounts.subscriptions import grant_subscription
from cryptolens.services.ops import admin
from cryptolens.services.ops.job_runs import recent_runs
from cryptolens.web.access import admin_only
from cryptolens.web.admin import bp
from cryptolens.web.errors import form_error

Page = str | Response | tuple[str, int]
#: ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
_DAYS = re.compile(r"[0-9]{1,4}")


@bp.route("/settings", methods=["GET", "POST"])
@admin_only
def settings() -> Page:
    if request.method == "POST":
        try:
            with unit_of_work(db.session()) as work:
                admin.set_setting(
                    work,
                    key=request.form.get("key", ""),
                    value=request.form.get("value", ""),
                    now=utcnow(),
                )
        except CryptoLensError as error:
            return form_error(
                "admin/settings.html", error, settings=admin.list_settings(db.session())
            )
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", settings=admin.list_settings(db.session()))


@bp.get("/users")
@admin_only
def users() -> Page:
    return render_template("admin/users.html", users=admin.list_users(db.session(), now=utcnow()))


@bp.post("/users/<int:user_id>/active")
@admin_only
def set_active(user_id: int) -> Page:
    try:
        accounts.set_active(
            db.session(),
            user_id=user_id,
            active=request.form.get("active") == "on",
            actor_id=current_user.account.id,
        )
    except ConflictError as error:
        db.session.rollback()
        users = admin.list_users(db.session(), now=utcnow())
        return form_error("admin/users.html", error, users=users)
    db.session.commit()
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/subscription")
@admin_only
def subscribe(user_id: int) -> Page:
    days = request.form.get("days", "30")
    if not _DAYS.fullmatch(days) or not 1 <= int(days) <= 3660:
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
