"""Admin broadcast: a message to everyone or to one plan's users, fanned out and sent by the
``send_bulk_notifications`` job (on a worker, or in a thread without Redis)."""

from __future__ import annotations

from functools import partial

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError
from cryptolens.domain.jobs import job
from cryptolens.extensions import db
from cryptolens.runtime import app_runtime
from cryptolens.services.notifications import broadcast, runs
from cryptolens.services.ops.background import Background
from cryptolens.services.views.broadcasts import recent_broadcasts
from cryptolens.web.access import admin_only
from cryptolens.web.admin import bp
from cryptolens.web.admin.trail import record
from cryptolens.web.errors import form_error

Page = str | Response | tuple[str, int]
TEMPLATE = "admin/broadcast.html"
AUDIENCES = (("all", "Everyone"), ("free", "Free"), ("pro", "Pro"), ("premium", "Premium"))


def _context(**extra: object) -> dict[str, object]:
    return {
        "audiences": AUDIENCES,
        "broadcasts": recent_broadcasts(db.session(), limit=20),
        **extra,
    }


@bp.route("/broadcast", methods=["GET", "POST"])
@admin_only
def broadcast_page() -> Page:
    if request.method == "GET":
        return render_template(TEMPLATE, **_context())
    try:
        with unit_of_work(db.session()) as work:
            broadcast_id = broadcast.create_broadcast(
                work,
                author_id=current_user.account.id,
                audience=request.form.get("audience", ""),
                title=request.form.get("title", ""),
                body=request.form.get("body", ""),
            )
            record(
                work,
                "broadcast.send",
                target=str(broadcast_id),
                details={"audience": request.form.get("audience", "")},
            )
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_context(form=request.form))
    runtime = app_runtime(current_app)
    Background(runtime.redis).submit(
        job("send_bulk_notifications"),
        broadcast_id,
        inline=partial(
            runs.send_bulk_notifications,
            runtime.engine,
            runtime.settings,
            broadcast_id=broadcast_id,
        ),
    )
    return redirect(url_for("admin.broadcast_page", sent=broadcast_id))
