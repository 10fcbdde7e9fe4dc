"""Admin error tracking: the error groups, filtered by status and words; resolve or reopen."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.extensions import db
from cryptolens.services.ops.error_tracking import OPEN, RESOLVED, list_groups, set_status
from cryptolens.web.access import admin_only
from cryptolens.web.admin import bp

STATUSES = (("open", "Open"), ("resolved", "Resolved"), ("all", "All"))


@bp.get("/errors")
@admin_only
def errors() -> str:
    status = request.args.get("status", OPEN)
    if status not in (OPEN, RESOLVED, "all"):
        status = OPEN
    search = request.args.get("q", "")[:100]
    groups = list_groups(
        db.session(), status=None if status == "all" else status, search=search, limit=200
    )
    return render_template(
        "admin/errors.html", groups=groups, status=status, search=search, statuses=STATUSES
    )


@bp.post("/errors/<int:group_id>/resolve")
@admin_only
def resolve_error(group_id: int) -> Response:
    reopen = request.form.get("action") == "reopen"
    with unit_of_work(db.session()) as work:
        set_status(work, group_id=group_id, resolved=not reopen, now=utcnow())
    return redirect(url_for("admin.errors", status=request.form.get("back", OPEN)))
