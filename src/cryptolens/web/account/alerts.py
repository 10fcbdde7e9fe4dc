"""Signal alerts: the user's channels (ntfy, email, webhook, Apprise), what to send them and
the history of what was sent. Thin routes onto ``services.notifications``."""

from __future__ import annotations

from flask import render_template
from werkzeug.wrappers import Response

from cryptolens.web.account import bp

Page = str | Response | tuple[str, int]


@bp.get("/notifications")
def notifications() -> Page:
    return render_template("account/notifications.html")
