"""What the HTTP servers accept (body and form limits, ids, no NUL) and say about themselves.

Werkzeug bounds a chunked body (no Content-Length) at MAX_CONTENT_LENGTH by silently
truncating it; ``BoundedChunkedBody`` reads such a body up to the limit first, so one too
long is answered 413 like any other, and a malformed one cannot be read without end.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map
from werkzeug.serving import WSGIRequestHandler

from cryptolens.config import Settings
from cryptolens.logs import redact
from cryptolens.runtime import app_settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Form fields held in memory: the largest form (an admin setting of 10,000 characters,
#: percent-encoded) fits several times over.
MAX_FORM_MEMORY_BYTES = 256 * 1024
#: No form here has more than a handful of fields.
MAX_FORM_PARTS = 100
SERVER_NAME = "CryptoLens"
_TOO_LARGE = "cryptolens.body_too_large"
_READ_SIZE = 64 * 1024


def request_limits(settings: Settings) -> dict[str, Any]:
    """Flask config bounding request bodies and forms."""
    return {
        "MAX_CONTENT_LENGTH": settings.max_request_bytes,
        "MAX_FORM_MEMORY_SIZE": min(settings.max_request_bytes, MAX_FORM_MEMORY_BYTES),
        "MAX_FORM_PARTS": MAX_FORM_PARTS,
    }


class BoundedChunkedBody:
    """WSGI middleware: a body without Content-Length is read (at most ``max_bytes`` + 1)
    before the app sees it; a longer one is replaced by nothing and marked too large."""

    def __init__(self, app: WSGIApplication, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("wsgi.input_terminated") and not environ.get("CONTENT_LENGTH"):
            body = self._read(environ["wsgi.input"])
            if len(body) > self.max_bytes:
                environ[_TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _read(self, stream: Any) -> bytes:
        buffer = bytearray()
        while len(buffer) <= self.max_bytes:
            part = stream.read(min(_READ_SIZE, self.max_bytes + 1 - len(buffer)))
            if not part:
                break
            buffer += part
        return bytes(buffer)


def _refuse_too_large() -> None:
    if request.environ.get(_TOO_LARGE):
        raise RequestEntityTooLarge()


def _refuse_nul() -> None:
    """No field takes a NUL character, and PostgreSQL refuses it in text (a 500 otherwise)."""
    values = [request.path, *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH"):
        values += request.form.values()
    if any("\x00" in value for value in values):
        raise BadRequest("The request contains a NUL character, which no field accepts.")


class Int64Converter(IntegerConverter):
    """``<int:...>`` for database ids: at most 19 ASCII digits and 2**63 - 1, so a longer id
    is a 404 instead of an overflow in the database driver."""

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


class QuietRequestHandler(WSGIRequestHandler):
    """The development server's handler without its ``Werkzeug/x Python/y`` banner, whose
    access log lines are redacted (``?api_key=``, emailed tokens) like the app's own."""

    def version_string(self) -> str:
        return SERVER_NAME

    def log(self, type: str, message: str, *args: Any) -> None:
        super().log(type, "%s", redact(message % args if args else message))


def register(app: Flask) -> None:
    """Install the limits; call before any route is added (rules bind converters then)."""
    settings = app_settings(app)
    app.config.update(request_limits(settings))
    app.url_map.converters["int"] = Int64Converter
    app.wsgi_app = BoundedChunkedBody(  # type: ignore[method-assign]
        app.wsgi_app, max_bytes=settings.max_request_bytes
    )
    app.before_request(_refuse_too_large)
    app.before_request(_refuse_nul)
