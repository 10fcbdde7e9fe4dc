"""What the HTTP servers accept (body and form limits, ids, no NUL) and say about themselves.

Werkzeug bounds a chunked body (no Content-Length) at MAX_CONTENT_LENGTH by silently
truncating it; ``BoundedChunkedBody`` reads such a body up to the limit first, so one too
long is answered 413 like any other, and a malformed one cannot be read without end.

Every body is bounded by MAX_REQUEST_BYTES except where a view declares a limit of its own
with ``body_limit`` (an upload with a larger allowance): both layers, and the 413 message,
read the view's limit.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map
from werkzeug.serving import WSGIRequestHandler

from cryptolens.config import Settings
from cryptolens.logs import redact
from cryptolens.runtime import app_settings
from cryptolens.web.errors import handle_http_error

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
_BODY_LIMIT_ATTR = "cryptolens_body_limit"
F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """A view's own bound on request bodies, and what a larger one is told (413)."""

    max_bytes: int
    message: str


def body_limit(max_bytes: int, message: str) -> Callable[[F], F]:
    """Let a view take bodies up to ``max_bytes`` instead of MAX_REQUEST_BYTES (an upload
    with an allowance of its own); a larger body is a 413 saying ``message``. Put it below
    the route decorator."""

    def decorate(view: F) -> F:
        setattr(view, _BODY_LIMIT_ATTR, BodyLimit(max_bytes, message))
        return view

    return decorate


def view_body_limit(app: Flask, endpoint: str | None) -> BodyLimit | None:
    """The body limit the view of ``endpoint`` declares, if any."""
    view = app.view_functions.get(endpoint) if endpoint else None
    found: BodyLimit | None = getattr(view, _BODY_LIMIT_ATTR, None)
    return found


class BoundedRequest(Request):
    """A request bounded by its view's ``body_limit`` (once routed), else by
    MAX_CONTENT_LENGTH. Routing precedes any read of the body (CSRF, forms, the view)."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and current_app:
            own = view_body_limit(current_app, self.endpoint)
            if own is not None:
                return own.max_bytes
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def request_limits(settings: Settings) -> dict[str, Any]:
    """Flask config bounding request bodies and forms."""
    return {
        "MAX_CONTENT_LENGTH": settings.max_request_bytes,
        "MAX_FORM_MEMORY_SIZE": min(settings.max_request_bytes, MAX_FORM_MEMORY_BYTES),
        "MAX_FORM_PARTS": MAX_FORM_PARTS,
    }


class BoundedChunkedBody:
    """WSGI middleware: a body without Content-Length is read (at most the request's limit
    + 1) before the app sees it; a longer one is replaced by nothing and marked too large.
    ``limit`` gives the request's limit (``route_body_limit``)."""

    def __init__(self, app: WSGIApplication, *, limit: Callable[[WSGIEnvironment], int]) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("wsgi.input_terminated") and not environ.get("CONTENT_LENGTH"):
            max_bytes = self.limit(environ)
            body = _read(environ["wsgi.input"], max_bytes)
            if len(body) > max_bytes:
                environ[_TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _read(stream: Any, max_bytes: int) -> bytes:
    buffer = bytearray()
    while len(buffer) <= max_bytes:
        part = stream.read(min(_READ_SIZE, max_bytes + 1 - len(buffer)))
        if not part:
            break
        buffer += part
    return bytes(buffer)


def route_body_limit(app: Flask, default: int) -> Callable[[WSGIEnvironment], int]:
    """The body limit of the view a request is for (routed as Flask will route it), else
    ``default``: for the WSGI layer, which runs before Flask routes."""

    def limit(environ: WSGIEnvironment) -> int:
        try:
            endpoint, _ = app.url_map.bind_to_environ(environ).match()
        except HTTPException:  # not found, wrong method, redirect: the app answers that
            return default
        own = view_body_limit(app, str(endpoint))
        return default if own is None else own.max_bytes

    return limit


def _refuse_too_large() -> None:
    if request.environ.get(_TOO_LARGE):
        raise RequestEntityTooLarge()


def _too_large(error: RequestEntityTooLarge) -> Any:
    """A 413 that names the view's own limit where it has one."""
    own = view_body_limit(current_app, request.endpoint)
    return handle_http_error(error if own is None else RequestEntityTooLarge(own.message))


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
    app.request_class = BoundedRequest
    app.url_map.converters["int"] = Int64Converter
    app.wsgi_app = BoundedChunkedBody(  # type: ignore[method-assign]
        app.wsgi_app, limit=route_body_limit(app, settings.max_request_bytes)
    )
    app.before_request(_refuse_too_large)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.before_request(_refuse_nul)
