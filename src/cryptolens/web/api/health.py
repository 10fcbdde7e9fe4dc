"""Health endpoints for load balancers and orchestrators."""

from __future__ import annotations

from flask import Response, current_app

from cryptolens.extensions import db
from cryptolens.runtime import app_redis
from cryptolens.services.ops.health import health_report
from cryptolens.version import __version__
from cryptolens.web.access import public
from cryptolens.web.api import bp
from cryptolens.web.envelope import api_failure, api_success


def _answer(require_schema: bool) -> Response:
    report = health_report(
        engine=db.engine,
        redis=app_redis(current_app),
        version=__version__,
        require_schema=require_schema,
    )
    if report.healthy:
        return api_success(report.as_dict())
    down = [name for name, c in report.components.items() if c.status != "ok"]
    return api_failure(f"degraded: {', '.join(down)}", status=503, data=report.as_dict())


@bp.get("/health")
@public
def health() -> Response:
    return _answer(require_schema=False)


@bp.get("/health/live")
@public
def live() -> Response:
    return api_success({"status": "alive"})


@bp.get("/health/ready")
@public
def ready() -> Response:
    return _answer(require_schema=True)
