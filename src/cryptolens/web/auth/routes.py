"""Auth pages. Every answer about an email address is the same whether it is registered."""

from __future__ import annotations

from contextlib import suppress

from flask import make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.accounts import normalize_email
from cryptolens.domain.errors import (
    AuthenticationError,
    CryptoLensError,
    ThrottledError,
    ValidationError,
)
from cryptolens.extensions import db, limiter
from cryptolens.services.accounts import accounts, twofactor
from cryptolens.services.ops.runtime_settings import load_runtime
from cryptolens.web.access import public, signed_in
from cryptolens.web.auth import bp, throttle
from cryptolens.web.auth.sessions import (
    end_session,
    finish_sign_in,
    passwords,
    pending_second_factor,
    safe_next,
    secret_box,
    start_session,
)
from cryptolens.web.errors import form_error
from cryptolens.web.mailer import links, password_reset_later, send_email

Page = str | Response | tuple[str, int]
CHECK_INBOX = "If that address can be used, we have sent it an email. Check your inbox."
POST_LIMIT = "20/minute;200/hour"
REGISTRATION_CLOSED = "Registration is closed for now; existing accounts can still sign in."


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit("10/hour", methods=["POST"])
def register() -> Page:
    if not load_runtime(db.session()).registration_open:  # an administrator closed it
        db.session.rollback()
        return render_template("auth/message.html", error=REGISTRATION_CLOSED), 403
    if request.method == "GET":
        return render_template("auth/register.html")
    email = request.form.get("email", "")
    try:
        with unit_of_work(db.session()) as work:
            result = accounts.register(
                work,
                email=email,
                password=request.form.get("password", ""),
                passwords=passwords(),
                now=utcnow(),
            )
            # In the same transaction: the account and its email are stored together.
            if result.verify_token:
                send_email("verify", result.email, link=links().verify(result.verify_token))
            else:
                send_email("already_registered", result.email, link=links().forgot())
    except CryptoLensError as error:
        return form_error("auth/register.html", error, email=email)
    return render_template("auth/message.html", message=CHECK_INBOX)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(POST_LIMIT, methods=["POST"])
def login() -> Page:
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "")
    context = {"email": email, "next": request.form.get("next", "")}
    try:
        attempt = throttle.attempt_login(email)
        with unit_of_work(db.session()) as work:
            account = accounts.authenticate(
                work,
                email=email,
                password=request.form.get("password", ""),
                passwords=passwords(),
                now=utcnow(),
            )
    except (AuthenticationError, ThrottledError) as error:
        return form_error("auth/login.html", error, **context)
    throttle.login_succeeded(email, attempt)
    remember = request.form.get("remember") == "on"
    return redirect(finish_sign_in(account, remember=remember, next_path=context["next"]))


@bp.route("/two-factor", methods=["GET", "POST"])
@public
@limiter.limit(POST_LIMIT, methods=["POST"])
def two_factor() -> Page:
    pending = pending_second_factor()
    if pending is None:
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/two_factor.html")
    user_id = int(pending["uid"])
    try:
        attempt = throttle.attempt_second_factor(user_id)
        with unit_of_work(db.session()) as work:
            twofactor.verify_second_factor(
                work,
                user_id=user_id,
                code=request.form.get("code", ""),
                box=secret_box(),
                now=utcnow(),
            )
    except (AuthenticationError, ThrottledError) as error:
        return form_error("auth/two_factor.html", error)
    attempt.forget()
    account = accounts.load_account(db.session(), user_id=user_id, now=utcnow())
    if account is None or not account.active or account.session_version != pending["ver"]:
        session.clear()
        return redirect(url_for("auth.login"))
    start_session(account, remember=bool(pending["remember"]))
    return redirect(safe_next(pending["next"]))


@bp.post("/logout")
@public
def logout() -> Response:
    end_session()
    return redirect(url_for("auth.login"))


@bp.get("/verify/<token>")
@public
def verify(token: str) -> Page:
    try:
        with unit_of_work(db.session()) as work:
            accounts.verify_email(work, token=token, now=utcnow())
    except CryptoLensError as error:
        return form_error("auth/message.html", error)
    return render_template("auth/message.html", message="Your email address is confirmed.")


@bp.get("/verify-pending")
@signed_in
def verify_pending() -> Page:
    if current_user.account.verified:
        return redirect(url_for("dashboard.index"))
    return render_template("auth/verify_pending.html", email=current_user.account.email)


@bp.post("/verify/resend")
@signed_in
@limiter.limit("5/hour")
def resend_verification() -> Page:
    token = accounts.new_verification(db.session(), user_id=current_user.account.id, now=utcnow())
    if token:
        send_email("verify", current_user.account.email, link=links().verify(token))
    db.session.commit()
    return render_template("auth/message.html", message=CHECK_INBOX)


@bp.route("/forgot", methods=["GET", "POST"])
@public
@limiter.limit("10/hour", methods=["POST"])
def forgot() -> Page:
    if request.method == "GET":
        return render_template("auth/forgot.html")
    email = request.form.get("email", "")
    try:
        throttle.attempt_reset_request(email)
    except ThrottledError as error:
        return form_error("auth/forgot.html", error, email=email)
    # The look-up, token and email happen off the request, and start only once the answer
    # is sent, so it takes as long for a registered address as for any other.
    answer = make_response(render_template("auth/message.html", message=CHECK_INBOX))
    with suppress(ValidationError):  # a malformed address is answered like any other
        answer.call_on_close(password_reset_later(normalize_email(email)))
    return answer


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit(POST_LIMIT, methods=["POST"])
def reset(token: str) -> Page:
    if request.method == "GET":
        return render_template("auth/reset.html", token=token)
    try:
        with unit_of_work(db.session()) as work:
            user_id = accounts.reset_password(
                work,
                token=token,
                password=request.form.get("password", ""),
                passwords=passwords(),
                now=utcnow(),
            )
    except CryptoLensError as error:
        return form_error("auth/reset.html", error, token=token)
    account = accounts.load_account(db.session(), user_id=user_id, now=utcnow())
    if account is not None:
        send_email("password_changed", account.email, link=links().forgot())
    db.session.commit()
    if account is not None:
        throttle.clear_login(account.email, everywhere=True)
    logout_user()
    return render_template(
        "auth/message.html", message="Your password is changed; every session was signed out."
    )
