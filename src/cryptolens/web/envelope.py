"""The JSON API envelope: ``{success, data, error, meta: {timestamp, request_id, ...}}``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, g, jsonify


def envelope_meta(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``meta`` of an answer: when and for which request, plus ``extra`` (count, paging)."""
    meta: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "request_id": g.get("request_id"),
    }
    if extra:
        meta.update(extra)
    return meta


def api_success(data: Any, *, status: int = 200, meta: dict[str, Any] | None = None) -> Response:
    """A successful API answer wrapping ``data``."""
    if isinstance(data, list) and (meta is None or "count" not in meta):
        meta = {**(meta or {}), "count": len(data)}
    response = jsonify({"success": True, "data": data, "error": None, "meta": envelope_meta(meta)})
    response.status_code = status
    return response


def api_failure(
    message: str, *, status: int, data: Any = None, meta: dict[str, Any] | None = None
) -> Response:
    """A failed API answer with a message a person can act on."""
    response = jsonify(
        {"success": False, "data": data, "error": message, "meta": envelope_meta(meta)}
    )
    response.status_code = status
    return response
