"""Request id and timing: every request is logged at a level chosen by how long it took."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from cryptolens.logs import redact, reset_request_id, set_request_id

log = logging.getLogger("cryptolens.request")

SLOW_SECONDS = 1.0
NOTABLE_SECONDS = 0.25
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _start() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    # Every log line of the request, and every job it enqueues, carries the id.
    g.request_id_token = set_request_id(g.request_id)


def _forget(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            reset_request_id(token)
        except ValueError:  # set in another context (a copied one): nothing to undo here
            set_request_id(None)


def _is_static() -> bool:
    return request.endpoint == "static" or request.path.startswith("/static/")


def _finish(response: Response) -> Response:
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    if elapsed >= SLOW_SECONDS:
        level = logging.WARNING
    elif elapsed >= NOTABLE_SECONDS:
        level = logging.INFO
    else:
        level = logging.DEBUG
    if _is_static():  # asset requests are noise at INFO; nginx serves them in production
        level = logging.DEBUG
    log.log(
        level,
        "%s %s %s %.1fms",
        request.method,
        redact(request.path),
        response.status_code,
        elapsed * 1000,
        extra={"request_id": g.get("request_id"), "duration_ms": round(elapsed * 1000, 2)},
    )
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def register(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)
