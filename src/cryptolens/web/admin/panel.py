"""The admin dashboard and its quick actions, the audit log, the runtime settings and the
queues. Every POST is CSRF-checked (the app-wide guard) and written to the audit log."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.errors import CryptoLensError, NotFoundError
from cryptolens.extensions import cache, db
from cryptolens.runtime import app_redis, app_settings
from cryptolens.services.market.candle_audit import run_db_health
from cryptolens.services.ops import queues
from cryptolens.services.ops.audit import audit_page
from cryptolens.services.ops.background import Background
from cryptolens.services.ops.job_runs import recent_runs
from cryptolens.services.ops.on_demand import (
    QueueWork,
    queue_fetches,
    queue_scans,
    queue_scheduled,
    watched_targets,
)
from cryptolens.services.ops.runtime_settings import (
    RuntimeSettings,
    load_runtime,
    parse_runtime,
    save_runtime,
    set_paused,
)
from cryptolens.web.access import admin_only
from cryptolens.web.admin import bp
from cryptolens.web.admin.trail import forget_banner, outcome, record
from cryptolens.web.errors import form_error

Page = str | Response | tuple[str, int]
Details = dict[str, object]


def _runner() -> str:
    return "worker queue" if app_redis(current_app) is not None else "a thread of this server"


def _queue(what: str, work: QueueWork) -> tuple[str, Details]:
    settings = app_settings(current_app)
    targets = watched_targets(db.session(), exchange=settings.exchange_id, symbols=())
    db.session.rollback()  # release the read before the work starts elsewhere
    work(Background(app_redis(current_app)), db.engine, settings, targets)
    names = ", ".join(t.symbol for t in targets[:10]) + (" …" if len(targets) > 10 else "")
    message = f"{what} queued for {len(targets)} watched symbols on {_runner()}."
    return message, {"symbols": len(targets), "first symbols": names or "none", "runner": _runner()}


def _scan() -> tuple[str, Details]:
    return _queue("A scan", queue_scans)


def _fetch() -> tuple[str, Details]:
    return _queue("A fetch", queue_fetches)


def _db_health() -> tuple[str, Details]:
    redis = app_redis(current_app)
    if redis is not None:
        queue_scheduled(redis, "db_health")
        return "The database health check is queued; its run shows under Jobs.", {}
    report = run_db_health(db.engine, app_settings(current_app), fix=False)
    counts = report.counts()
    healthy = "every symbol is healthy" if not counts.get("unhealthy") else "problems found"
    return f"Database health checked: {healthy}.", dict(counts)


def _clear_caches() -> tuple[str, Details]:
    cleared = cache.clear()
    return "Page caches cleared; the next visits render afresh.", {"cleared": bool(cleared)}


def _pause(paused: bool) -> Callable[[], tuple[str, Details]]:
    def run() -> tuple[str, Details]:
        with unit_of_work(db.session()) as work:
            set_paused(work, paused=paused, now=utcnow())
            record(work, "scheduler.pause" if paused else "scheduler.resume")
        state = "paused: no scheduled job fires" if paused else "running again"
        return f"The scheduler is {state} (it reads the flag every few seconds).", {
            "scheduler": "paused" if paused else "running"
        }

    return run


#: name -> (title, run); each returns a message and the details of its result panel.
ACTIONS: dict[str, tuple[str, Callable[[], tuple[str, Details]]]] = {
    "scan": ("Scan now", _scan),
    "fetch": ("Fetch now", _fetch),
    "db_health": ("Database health", _db_health),
    "clear_caches": ("Clear caches", _clear_caches),
    "pause": ("Pause the scheduler", _pause(True)),
    "resume": ("Resume the scheduler", _pause(False)),
}
#: Actions that write their own audit row with their change.
_SELF_AUDITED = frozenset({"pause", "resume"})


@bp.get("/")
@admin_only
def index() -> Page:
    redis = app_redis(current_app)
    runtime = load_runtime(db.session())
    return render_template(
        "admin/index.html",
        actions=[(name, title) for name, (title, _run) in ACTIONS.items()],
        runtime=runtime,
        queue_counts=queues.queue_counts(redis),
        runs=recent_runs(db.engine, name=None, limit=10),
    )


@bp.post("/actions/<name>")
@admin_only
def quick_action(name: str) -> Page:
    found = ACTIONS.get(name)
    if found is None:
        raise NotFoundError("There is no such action.")
    title, run = found
    try:
        message, details = run()
    except CryptoLensError as error:
        db.session.rollback()
        with unit_of_work(db.session()) as work:
            record(work, f"action.{name}", details={"failed": str(error)})
        outcome(title, str(error), ok=False)
        return redirect(url_for("admin.index"))
    if name not in _SELF_AUDITED:
        with unit_of_work(db.session()) as work:
            record(work, f"action.{name}", details=details)
    outcome(title, message, details=details)
    return redirect(url_for("admin.index"))


def _page_number() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else 1


@bp.get("/audit")
@admin_only
def audit_log() -> Page:
    return render_template("admin/audit.html", log=audit_page(db.session(), page=_page_number()))


SETTINGS_TEMPLATE = "admin/settings.html"


def _settings_page(runtime: RuntimeSettings, **extra: object) -> dict[str, object]:
    settings = app_settings(current_app)
    return {
        "runtime": runtime,
        "defaults": {
            "scan_interval_seconds": settings.scan_interval_seconds,
            "signal_min_confluence": settings.signal_min_confluence,
            "signal_cooldown_minutes": settings.signal_cooldown_minutes,
        },
        **extra,
    }


@bp.route("/settings", methods=["GET", "POST"])
@admin_only
def settings() -> Page:
    current = load_runtime(db.session())
    if request.method == "GET":
        return render_template(SETTINGS_TEMPLATE, **_settings_page(current))
    form = {name: request.form.get(name, "") for name in RuntimeSettings.model_fields}
    form["scheduler_paused"] = "true" if current.scheduler_paused else "false"  # dashboard's
    try:
        chosen = parse_runtime(form)
        with unit_of_work(db.session()) as work:
            changed = save_runtime(work, chosen, now=utcnow())
            if changed:
                values = chosen.model_dump(include=set(changed))
                record(work, "settings.update", target=", ".join(changed), details=values)
        forget_banner()
    except CryptoLensError as error:
        return form_error(SETTINGS_TEMPLATE, error, **_settings_page(current, form=request.form))
    said = ", ".join(c.replace("_", " ") for c in changed) or "nothing changed"
    outcome("Settings", f"Saved: {said}.")
    return redirect(url_for("admin.settings"))


@bp.get("/queues")
@admin_only
def queues_page() -> Page:
    redis = app_redis(current_app)
    return render_template(
        "admin/queues.html",
        queue_counts=queues.queue_counts(redis),
        failed=queues.failed_jobs(redis),
    )


@bp.post("/queues/jobs/<job_id>/<verb>")
@admin_only
def queue_job(job_id: str, verb: str) -> Page:
    if verb not in {"retry", "cancel"} or not 1 <= len(job_id) <= 64:
        raise NotFoundError("There is no such action.")
    redis = app_redis(current_app)
    act = queues.retry_job if verb == "retry" else queues.cancel_job
    try:
        queue = act(redis, job_id)
    except CryptoLensError as error:
        outcome(f"Job {verb}", str(error), ok=False)
        return redirect(url_for("admin.queues_page"))
    with unit_of_work(db.session()) as work:
        record(work, f"job.{verb}", target=job_id, details={"queue": queue})
    outcome(f"Job {verb}", f"Job {job_id} {'retried' if verb == 'retry' else 'cancelled'}.")
    return redirect(url_for("admin.queues_page"))
