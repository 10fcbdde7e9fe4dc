"""Two-factor set-up: a server-rendered QR code, confirmation by a first code, backup codes."""

from __future__ import annotations

from collections.abc import Callable

import segno
from flask import render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError
from cryptolens.extensions import db, limiter
from cryptolens.services.accounts import twofactor
from cryptolens.web.account import bp
from cryptolens.web.auth import throttle
from cryptolens.web.auth.sessions import passwords, secret_box
from cryptolens.web.errors import form_error
from cryptolens.web.mailer import links, send_email

Page = str | Response | tuple[str, int]
CODE_LIMIT = "10/15 minutes"


def _context(**extra: object) -> dict[str, object]:
    user_id = current_user.account.id
    setup = twofactor.pending_setup(db.session(), user_id=user_id, box=secret_box())
    qr = segno.make(setup.uri, error="m").svg_data_uri(scale=4) if setup else None
    return {
        "account": current_user.account,
        "setup": setup,
        "qr": qr,
        "remaining": twofactor.remaining_backup_codes(db.session(), user_id=user_id),
        **extra,
    }


@bp.get("/two-factor")
def two_factor() -> Page:
    return render_template("account/two_factor.html", **_context())


@bp.post("/two-factor/setup")
def two_factor_setup() -> Page:
    try:
        with unit_of_work(db.session()) as work:
            twofactor.begin_setup(work, user_id=current_user.account.id, box=secret_box())
    except CryptoLensError as error:
        return form_error("account/two_factor.html", error, **_context())
    return render_template("account/two_factor.html", **_context())


@bp.post("/two-factor/confirm")
@limiter.limit(CODE_LIMIT)
def two_factor_confirm() -> Page:
    return _backup_codes_after_code(twofactor.confirm_setup, notice="two_factor_enabled")


@bp.post("/two-factor/backup-codes")
@limiter.limit(CODE_LIMIT)
def two_factor_backup_codes() -> Page:
    return _backup_codes_after_code(twofactor.regenerate_backup_codes)


def _backup_codes_after_code(action: Callable[..., list[str]], notice: str | None = None) -> Page:
    """Run ``action`` (confirm set-up, or new backup codes) behind a throttled code check;
    show the backup codes it returns, and email the user ``notice`` if given."""
    user_id = current_user.account.id
    try:
        attempt = throttle.attempt_second_factor(user_id)
        with unit_of_work(db.session()) as work:
            codes = action(
                work,
                user_id=user_id,
                code=request.form.get("code", ""),
                box=secret_box(),
                now=utcnow(),
            )
            if notice:
                send_email(notice, current_user.account.email, link=links().forgot())
    except CryptoLensError as error:
        return form_error("account/two_factor.html", error, **_context())
    attempt.forget()
    return render_template("account/backup_codes.html", codes=codes)


@bp.post("/two-factor/disable")
@limiter.limit(CODE_LIMIT)
def two_factor_disable() -> Page:
    user_id = current_user.account.id
    try:
        attempt = throttle.attempt_second_factor(user_id)
        with unit_of_work(db.session()) as work:
            twofactor.disable(
                work,
                user_id=user_id,
                password=request.form.get("password", ""),
                code=request.form.get("code", ""),
                passwords=passwords(),
                box=secret_box(),
                now=utcnow(),
            )
            send_email("two_factor_disabled", current_user.account.email, link=links().forgot())
    except CryptoLensError as error:
        return form_error("account/two_factor.html", error, **_context())
    attempt.forget()
    return render_template("account/done.html", message="Two-factor authentication is off.")
