"""The OpenAPI 3.1 document, generated from the routes' models."""

from __future__ import annotations

from flask import Response, jsonify

from cryptolens.web.access import public
from cryptolens.web.api.v1 import bp
from cryptolens.web.api.v1.spec import api


@bp.get("/openapi.json")
@public  # the contract is no secret; every operation in it needs a key or a session
def openapi() -> Response:
    response = jsonify(api.spec)
    response.cache_control.max_age = 300
    return response
