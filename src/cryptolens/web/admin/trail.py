"""What every admin page shares: the audit row of an action (who, from where), the grouped
navigation (links to pages other branches may add only when their endpoint exists), the
result panel of the last action, and the maintenance banner every page shows."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app, flash, request, session, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.extensions import cache, db
from cryptolens.runtime import app_settings
from cryptolens.services.ops import audit
from cryptolens.services.ops.runtime_settings import load_runtime
from cryptolens.web.admin import bp

log = logging.getLogger(__name__)
RESULT_KEY = "admin_result"


def actor() -> audit.Actor:
    """The signed-in administrator, from the client address as the app trusts it (ProxyFix
    with the configured proxy count)."""
    account = current_user.account
    return audit.Actor(user_id=account.id, email=account.email, client_ip=request.remote_addr or "")


def record(
    work: Session, action: str, *, target: str = "", details: Mapping[str, object] | None = None
) -> None:
    """One audit row for ``action``, in the action's own transaction ``work``."""
    audit.record(work, actor(), action, target=target, details=details, now=utcnow())


def outcome(
    title: str, message: str, *, ok: bool = True, details: Mapping[str, object] | None = None
) -> None:
    """Say how an action went: a flash line, and a result panel on the next admin page."""
    flash(f"{title}: {'done' if ok else 'failed'}.", "message" if ok else "error")
    session[RESULT_KEY] = {
        "title": title,
        "message": message,
        "ok": ok,
        "details": {k.replace("_", " "): str(v) for k, v in (details or {}).items()},
    }


@dataclass(frozen=True, slots=True)
class Link:
    endpoint: str
    title: str


#: The grouped navigation; entries whose endpoint does not exist are left out.
NAV: tuple[tuple[str, tuple[Link, ...]], ...] = (
    ("Overview", (Link("admin.index", "Dashboard"), Link("admin.audit_log", "Audit log"))),
    (
        "People",
        (
            Link("admin.users", "Users"),
            Link("admin.payments", "Subscriptions"),
            Link("admin.broadcast_page", "Broadcast"),
        ),
    ),
    ("Market", (Link("admin.symbols", "Symbols"),)),
    (
        "Operations",
        (
            Link("admin.jobs", "Jobs & schedule"),
            Link("admin.queues_page", "Queues"),
            Link("admin.errors", "Errors"),
            Link("admin.logs", "Logs"),
        ),
    ),
    ("Site", (Link("admin.settings", "Settings"),)),
)


#: Pages about selling plans: gone (404, and no link) with ``PLANS_ENABLED=false``.
PLAN_ENDPOINTS = frozenset({"admin.payments", "admin.subscriptions", "admin.payment_events"})


@bp.app_template_global()
def admin_nav() -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """(group, [(title, url, current)]) for the endpoints this app has."""
    views = current_app.view_functions
    hidden = frozenset() if app_settings(current_app).plans_enabled else PLAN_ENDPOINTS
    here = request.endpoint
    groups = []
    for group, links in NAV:
        found = [
            (link.title, url_for(link.endpoint), link.endpoint == here)
            for link in links
            if link.endpoint in views and link.endpoint not in hidden
        ]
        if found:
            groups.append((group, found))
    return groups


@bp.app_template_global()
def admin_result() -> dict[str, object] | None:
    """The last action's result panel (shown once)."""
    result: dict[str, object] | None = session.pop(RESULT_KEY, None)
    return result


BANNER_KEY = "runtime:maintenance_banner"
#: How long a worker may show a banner another worker changed (the saving one: at once).
BANNER_TTL_S = 30


@bp.app_template_global()
def maintenance_banner() -> str:
    """The administrators' banner text ("" when none or unreadable); base.html asks once a
    page, and the text is kept in the shared cache for a few seconds."""
    banner: str | None = cache.get(BANNER_KEY)
    if banner is not None:
        return banner
    try:
        banner = load_runtime(db.session()).maintenance_banner
    except SQLAlchemyError:  # the error page of a database outage still renders
        log.debug("no maintenance banner: database unavailable", exc_info=True)
        db.session.rollback()
        return ""
    cache.set(BANNER_KEY, banner, timeout=BANNER_TTL_S)
    return banner


def forget_banner() -> None:
    """After a save: the next page reads the banner again."""
    cache.delete(BANNER_KEY)
