"""Signal alerts: the user's own channels (ntfy, email, webhook, Apprise), what to send them,
and the history of what was sent. Thin routes onto ``services.notifications``; every route
acts on the signed-in user only (no user id ever comes from the request)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError
from cryptolens.extensions import db
from cryptolens.notify.channel import Delivered
from cryptolens.notify.targets import ChannelKind
from cryptolens.runtime import app_runtime, app_settings
from cryptolens.services.notifications import channels, history, preferences
from cryptolens.web.account import bp
from cryptolens.web.account.alert_forms import (
    channel_address,
    channel_token,
    page_context,
    preference_form,
)
from cryptolens.web.errors import form_error
from cryptolens.web.principal import current_principal

Page = str | Response | tuple[str, int]
TEMPLATE = "account/notifications.html"


def _kind(kind: str) -> ChannelKind:
    try:
        return ChannelKind(kind)
    except ValueError:
        raise NotFound(f"No channel kind {kind!r}.") from None


def _page(**extra: object) -> dict[str, object]:
    return page_context(
        db.session(),
        current_principal(),
        app_settings(current_app),
        **extra,
    )


def _user_id() -> int:
    user_id: int = current_user.account.id
    return user_id


@bp.get("/notifications")
def notifications() -> Page:
    return render_template(TEMPLATE, **_page())


@bp.post("/notifications/channels/<kind>")
def save_channel(kind: str) -> Page:
    """Save (and turn on) one channel; a new webhook's signing secret is shown this once."""
    channel = _kind(kind)
    try:
        with unit_of_work(db.session()) as work:
            view = channels.set_channel(
                work,
                app_settings(current_app),
                user_id=_user_id(),
                kind=channel,
                address=channel_address(channel, request.form),
                token=channel_token(channel, request.form),
                email_mode=request.form.get("email_mode") if channel is ChannelKind.EMAIL else None,
            )
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_page())
    if view.secret is not None:
        return render_template(TEMPLATE, **_page(webhook_secret=view.secret))
    return redirect(url_for("account.notifications", _anchor=f"channel-{channel.value}"))


def _channel_action(kind: str, action: Callable[..., object]) -> Page:
    channel = _kind(kind)
    try:
        with unit_of_work(db.session()) as work:
            action(work, user_id=_user_id(), kind=channel)
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_page())
    return redirect(url_for("account.notifications", _anchor=f"channel-{channel.value}"))


@bp.post("/notifications/channels/<kind>/disable")
def disable_channel(kind: str) -> Page:
    return _channel_action(kind, channels.disable_channel)


@bp.post("/notifications/channels/<kind>/resume")
def resume_channel(kind: str) -> Page:
    """Turn a disabled or paused channel back on (a pause also clears its failure count)."""
    return _channel_action(kind, channels.resume_channel)


@bp.post("/notifications/channels/<kind>/test")
def test_channel(kind: str) -> Page:
    """Send a test through the channel now and say how it went: "Sent" or the reason."""
    channel = _kind(kind)
    runtime = app_runtime(current_app)
    try:
        outcome = channels.send_test(
            runtime.engine, runtime.settings, user_id=_user_id(), kind=channel
        )
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_page())
    result = outcome.result
    said = "Sent" if isinstance(result, Delivered) else f"Not sent: {result.reason}"
    return render_template(TEMPLATE, **_page(test_result=(channel.value, said)))


@bp.post("/notifications/preferences")
def save_alert_preferences() -> Page:
    try:
        with unit_of_work(db.session()) as work:
            preferences.save_preferences(
                work,
                user_id=_user_id(),
                subject=current_principal(),
                form=preference_form(request.form),
            )
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_page())
    return redirect(url_for("account.notifications", _anchor="preferences"))


@bp.get("/notifications/history")
def notification_history() -> Page:
    rows = history.user_history(db.session(), user_id=_user_id(), limit=100)
    return render_template("account/notification_history.html", rows=rows)
