"""Profile, preferences, password and email changes, sessions, deletion."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError
from cryptolens.domain.plans import PLANS
from cryptolens.extensions import db, limiter
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import accounts, user_sessions
from cryptolens.web.access import public
from cryptolens.web.account import bp
from cryptolens.web.auth.sessions import end_session, passwords, start_session
from cryptolens.web.errors import form_error
from cryptolens.web.filters import timezone_names
from cryptolens.web.mailer import links, send_email
from cryptolens.web.principal import current_principal
from cryptolens.web.security import session_rules

Page = str | Response | tuple[str, int]
SENSITIVE_LIMIT = "10/15 minutes"


def _profile(**context: object) -> dict[str, object]:
    principal = current_principal()
    sessions = user_sessions.list_sessions(
        db.session(),
        user_id=current_user.account.id,
        now=utcnow(),
        rules=session_rules(app_settings(current_app)),
    )
    return {
        "account": current_user.account,
        "plans": PLANS,
        "timezones": timezone_names(),
        "sessions": sessions,
        "this_session": principal.session_id,
        **context,
    }


def _refresh_session() -> None:
    """Keep this browser signed in after the session version moved on."""
    account = accounts.load_account(db.session(), user_id=current_user.account.id, now=utcnow())
    if account is not None:
        start_session(account, remember=bool(request.cookies.get("remember_token")))


@bp.route("/", methods=["GET", "POST"])
def profile() -> Page:
    if request.method == "GET":
        return render_template("account/profile.html", **_profile())
    try:
        with unit_of_work(db.session()) as work:
            accounts.update_preferences(
                work,
                account=current_user.account,
                timezone=request.form.get("timezone", "UTC").strip(),
                watchlist=request.form.get("watchlist", "").replace("\n", ",").split(","),
            )
    except CryptoLensError as error:
        return form_error("account/profile.html", error, **_profile())
    return redirect(url_for("account.profile"))


@bp.post("/password")
@limiter.limit(SENSITIVE_LIMIT)
def change_password() -> Page:
    try:
        with unit_of_work(db.session()) as work:
            accounts.change_password(
                work,
                user_id=current_user.account.id,
                current=request.form.get("current_password", ""),
                new=request.form.get("new_password", ""),
                passwords=passwords(),
                now=utcnow(),
            )
            send_email("password_changed", current_user.account.email, link=links().forgot())
    except CryptoLensError as error:
        return form_error("account/profile.html", error, **_profile())
    _refresh_session()
    return render_template(
        "account/done.html", message="Password changed; your other sessions were signed out."
    )


@bp.post("/email")
@limiter.limit(SENSITIVE_LIMIT)
def change_email() -> Page:
    try:
        with unit_of_work(db.session()) as work:
            found = accounts.request_email_change(
                work,
                user_id=current_user.account.id,
                password=request.form.get("password", ""),
                new_email=request.form.get("new_email", ""),
                passwords=passwords(),
                now=utcnow(),
            )
            if found:
                address, token = found
                send_email("change_email", address, link=links().confirm_email(token))
    except CryptoLensError as error:
        return form_error("account/profile.html", error, **_profile())
    return render_template(
        "account/done.html", message="If that address can be used, we sent it a link to confirm."
    )


@bp.get("/email/confirm/<token>")
@public
def confirm_email(token: str) -> Page:
    try:
        with unit_of_work(db.session()) as work:
            change = accounts.confirm_email_change(work, token=token, now=utcnow())
            # The old address hears of it: if the change was not its owner's doing, they
            # can act.
            send_email(
                "email_changed", change.old_email, new_email=change.new_email, link=links().forgot()
            )
    except CryptoLensError as error:
        return form_error("auth/message.html", error)
    return render_template("auth/message.html", message="Your new email address is confirmed.")


@bp.post("/sessions/revoke")
def revoke_sessions() -> Page:
    accounts.end_all_sessions(db.session(), user_id=current_user.account.id, now=utcnow())
    db.session.commit()
    _refresh_session()
    return render_template("account/done.html", message="Every other session is signed out.")


@bp.post("/sessions/<session_id>/revoke")
def revoke_one_session(session_id: str) -> Page:
    """Sign out one of the user's own devices (another user's session id: 404)."""
    principal = current_principal()
    with unit_of_work(db.session()) as work:
        ended = user_sessions.revoke_session(
            work, user_id=current_user.account.id, session_id=session_id, now=utcnow()
        )
        if not ended:
            raise NotFound("No such session among yours.")
    if session_id == principal.session_id:
        end_session()
        return redirect(url_for("auth.login"))
    return redirect(url_for("account.profile"))


@bp.post("/delete")
@limiter.limit(SENSITIVE_LIMIT)
def delete() -> Page:
    try:
        with unit_of_work(db.session()) as work:
            accounts.delete_account(
                work,
                user_id=current_user.account.id,
                password=request.form.get("password", ""),
                passwords=passwords(),
            )
    except CryptoLensError as error:
        return form_error("account/profile.html", error, **_profile())
    session.clear()
    logout_user()  # after the clear, so its note to delete the remember cookie survives
    return render_template("auth/message.html", message="Your account and its data are deleted.")
