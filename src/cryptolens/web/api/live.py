"""What the pages' live script needs besides the stream: the signed-in user's toast filter."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, current_app

from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.notifications.toasts import toast_filter
from cryptolens.web.api import bp
from cryptolens.web.envelope import api_success
from cryptolens.web.principal import current_principal


@bp.get("/live/toasts")
def toasts() -> Response:
    """Which new signals to announce: directions, minimum confluence, symbols, timeframes."""
    principal = current_principal()
    assert principal.user_id is not None  # the gate lets only signed-in users here
    found = toast_filter(
        db.session(),
        user_id=principal.user_id,
        subject=principal,
        settings=app_settings(current_app),
    )
    return api_success(asdict(found))
