"""Admin pages about users and jobs: every view here is ``admin_only`` and every action is
written to the audit log in its own transaction."""

from __future__ import annotations

import re

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError, ValidationError
from cryptolens.domain.jobs import JOBS
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import accounts
from cryptolens.services.ops import admin
from cryptolens.services.ops.job_runs import recent_runs
from cryptolens.services.ops.runtime_settings import load_runtime
from cryptolens.web.access import admin_only
from cryptolens.web.admin import bp
from cryptolens.web.admin.trail import outcome, record
from cryptolens.web.errors import form_error
from cryptolens.web.mailer import links, send_email

Page = str | Response | tuple[str, int]
#: ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
_NUMBER = re.compile(r"[0-9]{1,6}")


def _int(text: str | None, default: int) -> int:
    return int(text) if text and _NUMBER.fullmatch(text) else default


def _users_page() -> dict[str, object]:
    found = admin.list_users(
        db.session(),
        now=utcnow(),
        query=request.values.get("q", ""),
        page=_int(request.values.get("page"), 1),
    )
    return {"found": found, "users": found.users}


def _back() -> Response:
    """To the users page the form came from (its search and page)."""
    query, page = request.form.get("q") or None, request.form.get("page") or None
    return redirect(url_for("admin.users", q=query, page=page))


@bp.get("/users")
@admin_only
def users() -> Page:
    return render_template("admin/users.html", **_users_page())


def _done(user_id: int, message: str, **details: object) -> Page:
    outcome("Users", message, details={"user": user_id, **details})
    return _back()


@bp.post("/users/<int:user_id>/active")
@admin_only
def set_active(user_id: int) -> Page:
    active = request.form.get("active") == "on"
    try:
        with unit_of_work(db.session()) as work:
            # Locks the active administrators: never the last one (services.accounts).
            accounts.set_active(
                work, user_id=user_id, active=active, actor_id=current_user.account.id
            )
            record(work, "user.activate" if active else "user.deactivate", target=str(user_id))
    except CryptoLensError as error:
        return form_error("admin/users.html", error, **_users_page())
    state = "activated" if active else "deactivated"
    return _done(user_id, f"User {user_id} {state}.")


@bp.post("/users/<int:user_id>/subscription")
@admin_only
def subscribe(user_id: int) -> Page:
    days = request.form.get("days", "30")
    plan = request.form.get("plan", "")
    reason = request.form.get("reason", "")
    try:
        if not _NUMBER.fullmatch(days):
            raise ValidationError("Days must be a whole number from 1 to 3660.")
        with unit_of_work(db.session()) as work:
            accounts.require_user(work, user_id=user_id)
            admin.grant_plan(
                work, user_id=user_id, plan=plan, days=int(days), reason=reason, now=utcnow()
            )
            record(
                work,
                "user.grant_plan",
                target=str(user_id),
                details={"plan": plan, "days": int(days), "reason": reason},
            )
    except CryptoLensError as error:
        return form_error("admin/users.html", error, **_users_page())
    return _done(user_id, f"{plan} granted for {days} days.", plan=plan)


@bp.post("/users/<int:user_id>/verified")
@admin_only
def mark_verified(user_id: int) -> Page:
    """Mark an address verified without the emailed link (installs without SMTP)."""
    try:
        with unit_of_work(db.session()) as work:
            email = admin.user_email(work, user_id=user_id)
            _id, already = accounts.mark_email_verified(work, email=email, now=utcnow())
            record(work, "user.mark_verified", target=str(user_id), details={"already": already})
    except CryptoLensError as error:
        return form_error("admin/users.html", error, **_users_page())
    said = "was already verified" if already else "is now verified"
    return _done(user_id, f"User {user_id} {said}.")


@bp.post("/users/<int:user_id>/verification")
@admin_only
def resend_verification(user_id: int) -> Page:
    try:
        with unit_of_work(db.session()) as work:
            email = admin.user_email(work, user_id=user_id)
            token = accounts.new_verification(work, user_id=user_id, now=utcnow())
            if token:
                send_email("verify", email, link=links().verify(token))
            record(
                work,
                "user.resend_verification",
                target=str(user_id),
                details={"sent": bool(token)},
            )
    except CryptoLensError as error:
        return form_error("admin/users.html", error, **_users_page())
    said = "A verification email is on its way." if token else "That address is already verified."
    return _done(user_id, said)


@bp.get("/jobs")
@admin_only
def jobs() -> Page:
    settings = app_settings(current_app)
    runtime = load_runtime(db.session())
    return render_template(
        "admin/jobs.html",
        jobs=JOBS,
        runs=recent_runs(db.engine, name=request.args.get("job") or None, limit=50),
        scan_interval=runtime.scan_interval(settings.scan_interval_seconds),
        paused=runtime.scheduler_paused,
    )
