"""Prometheus: ``/metrics``, and the request counter and latency histogram behind it.

The scrape answers a bearer token (METRICS_TOKEN, compared in constant time) or an address
in METRICS_ALLOW; with neither configured the route answers 404, as if it did not exist.
Requests are labelled by URL rule template ("/signals/<int:signal_id>"), never the path, so
a million ids stay one label value; unknown paths are "unmatched", odd methods "OTHER".
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request

from cryptolens.config import Settings
from cryptolens.extensions import db
from cryptolens.infra import metrics
from cryptolens.infra.metrics_files import WEB_ROLE
from cryptolens.runtime import app_redis, app_settings
from cryptolens.services.ops.metrics_gauges import StoreCollector
from cryptolens.web.access import public

bp = Blueprint("metrics", __name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
_BEARER = "Bearer "


def scrape_refusal(settings: Settings, *, authorization: str, remote_addr: str | None) -> int:
    """0 when the caller may scrape, else the status to refuse with (404: not configured)."""
    token, allow = settings.metrics_token, settings.metrics_allow
    if token is None and not allow:
        return 404
    if token is not None and authorization.startswith(_BEARER):
        sent = authorization[len(_BEARER) :].strip().encode()
        if hmac.compare_digest(sent, token.encode()):
            return 0
    if allow and remote_addr:
        try:
            address = ipaddress.ip_address(remote_addr)
        except ValueError:
            address = None
        if address is not None and any(address in network for network in allow):
            return 0
    return 401 if token is not None else 403


@bp.get("/metrics")
@public
def scrape() -> Response:
    settings = app_settings(current_app)
    refusal = scrape_refusal(
        settings,
        authorization=request.headers.get("Authorization", ""),
        remote_addr=request.remote_addr,
    )
    if refusal == 404:
        abort(404)
    if refusal:
        answer = Response("Not allowed to read metrics.\n", status=refusal, mimetype="text/plain")
        if refusal == 401:
            answer.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return answer
    store = StoreCollector(
        db.engine,
        app_redis(current_app),
        exchange=settings.exchange_id,
        base_timeframe=settings.base_timeframe,
    )
    answer = Response(metrics.exposition([store]), content_type=metrics.CONTENT_TYPE)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def observe(response: Response) -> Response:
    """Count the request and time it (from the request middleware's start)."""
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "OTHER"
    metrics.HTTP_REQUESTS.labels(method, route, response.status_code).inc()
    started = g.get("started")
    if started is not None:
        metrics.HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)
    return response


def register(app: Flask) -> None:
    """Record requests (after ``middleware.register``, which notes when each one started)
    and, with a multiprocess directory configured, record into it as a web process."""
    settings = app_settings(app)
    if settings.prometheus_multiproc_dir is not None:
        metrics.use_directory(settings.prometheus_multiproc_dir, WEB_ROLE)
    app.after_request(observe)
    app.register_blueprint(bp)
