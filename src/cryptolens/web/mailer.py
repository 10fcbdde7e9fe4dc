"""The request's side of account email: the app's mailer, and helpers that store an email in
the request's session. Nothing here commits: the email leaves once the route commits."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import Flask, current_app

from cryptolens.extensions import db
from cryptolens.notify.links import PublicLinks
from cryptolens.runtime import app_redis, app_settings
from cryptolens.services.ops import mail
from cryptolens.services.ops.background import Background

_MAILER = "cryptolens.mailer"


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _background(app: Flask) -> Background:
    return Background(app_redis(app))


def app_mailer() -> mail.Mailer:
    app = _app()
    found: mail.Mailer | None = app.extensions.get(_MAILER)
    if found is None:
        courier = mail.QueuedCourier(db.engine, app_settings(app), _background(app))
        found = app.extensions[_MAILER] = mail.Mailer(app_settings(app), courier)
    return found


def links() -> PublicLinks:
    """Absolute links from PUBLIC_URL (never from the request's Host)."""
    return app_mailer().links


def send_email(template: str, recipient: str, **context: object) -> int:
    """Store one email in the request's session; it is delivered when the route commits."""
    return mail.send_email(
        db.session(), mailer=app_mailer(), template=template, recipient=recipient, **context
    )


def password_reset_later(email: str) -> Callable[[], None]:
    """A reset request for ``email``, ready to be handed off the request path; it needs no
    app context, so it can run once the response has been sent."""
    app = _app()
    return partial(
        mail.request_password_reset_later,
        _background(app),
        engine=db.engine,
        settings=app_settings(app),
        email=email,
    )
