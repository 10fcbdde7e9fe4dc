"""One place where errors become HTTP: JSON envelope under /api, an HTML page elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, after_this_request, current_app, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, MethodNotAllowed, SecurityError

from cryptolens.domain.errors import CryptoLensError, ThrottledError, TierRequiredError
from cryptolens.extensions import db
from cryptolens.logs import redact
from cryptolens.runtime import app_runtime
from cryptolens.services.ops.error_tracking import record_error
from cryptolens.web.envelope import api_failure

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _render(
    status: int, title: str, message: str, *, upgrade: bool = False
) -> Response | tuple[str, int]:
    if _wants_json():
        return api_failure(message, status=status)
    try:
        page = render_template(
            "errors/error.html", status=status, title=title, message=message, upgrade=upgrade
        )
    except Exception:  # the error page itself failed: still never show a stack trace
        log.exception("error page failed to render")
        page = f"<!doctype html><title>{status}</title><h1>{status} {escape(title)}</h1>"
    return page, status


def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    response = _render(status, error.name, error.description or error.name)
    if isinstance(response, Response) and isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.valid_methods or ())
    return response


def handle_csrf_error(error: CSRFError) -> Response | tuple[str, int]:
    """A missing or bad CSRF token is a refused request (403), not a malformed one."""
    return _render(403, "Forbidden", f"{error.description} Reload the page and try again.")


UNTRUSTED_HOST = "This site does not answer to that host name (Host header)."


def handle_untrusted_host(error: SecurityError) -> Response | tuple[str, int]:
    """A Host outside TRUSTED_HOSTS: no link may be built from it, so a page without the
    site's layout (which builds links)."""
    if _wants_json():
        return api_failure(UNTRUSTED_HOST, status=400)
    return f"<!doctype html><title>400</title><h1>400 Bad Request</h1><p>{UNTRUSTED_HOST}</p>", 400


def handle_domain_error(error: CryptoLensError) -> Response | tuple[str, int]:
    upgrade = isinstance(error, TierRequiredError)
    _say_when_to_retry(error)
    return _render(
        error.status_code, _TITLES.get(error.status_code, "Error"), str(error), upgrade=upgrade
    )


def _say_when_to_retry(error: CryptoLensError) -> None:
    """A throttled answer carries ``Retry-After`` (seconds) beside the message's words."""
    if not isinstance(error, ThrottledError) or error.retry_after is None:
        return
    seconds = str(error.retry_after)

    @after_this_request
    def _retry_after(response: Response) -> Response:
        response.headers["Retry-After"] = seconds
        return response


_TITLES = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Content Too Large",
    409: "Conflict",
    429: "Too Many Requests",
}


def form_error(template: str, error: CryptoLensError, **context: object) -> tuple[str, int]:
    """Show a form again with the error's message, under the error's HTTP status."""
    _say_when_to_retry(error)
    return render_template(template, error=str(error), **context), error.status_code


def request_context() -> dict[str, Any]:
    """What an error group keeps of the request; ``record_error`` scrubs secrets by key
    name (Cookie, Authorization, X-API-Key, password fields...) and redacts the values."""
    user_id = None
    try:
        if current_user.is_authenticated:
            user_id = current_user.account.id
    except Exception:  # the user loader itself may be what failed
        user_id = None
    return {
        "request_id": g.get("request_id"),
        "method": request.method,
        "path": request.path,
        "endpoint": request.endpoint,
        "query": request.args.to_dict(flat=True),
        "form": _form(),
        "headers": dict(request.headers.items()),
        "remote_addr": request.remote_addr,
        "user_id": user_id,
    }


def _form() -> dict[str, str]:
    try:
        return request.form.to_dict(flat=True)
    except Exception:  # an unreadable body is no reason to lose the error
        return {}


def _abandon_transaction() -> None:
    """Roll the failed request's session back first: on SQLite its open write transaction
    would otherwise hold the lock the error's own row waits for."""
    try:
        db.session.rollback()
    except Exception:
        log.warning("could not roll back the failed request's session", exc_info=True)


def handle_unexpected(error: Exception) -> Response | tuple[str, int]:
    log.exception("unhandled error on %s %s", request.method, redact(request.path))
    _abandon_transaction()
    runtime = app_runtime(current_app)
    record_error(runtime.engine, runtime.settings, error, source="web", context=request_context())
    return _render(
        500, "Internal Server Error", "An unexpected error occurred; it has been logged."
    )


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(CryptoLensError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
