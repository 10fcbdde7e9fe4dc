"""Logging set up from settings: readable text for people, one JSON object a line for machines."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from cryptolens.config import LogFormat, Settings

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


# Paths that carry an emailed secret, and query values that do: logs keep the shape, not
# the secret ("/auth/reset/[redacted]"), so a log reader cannot take over an account.
_TOKEN_PATH = re.compile(
    r"(/auth/verify/(?!resend\b)|/auth/reset/|/account/email/confirm/)[^/?#\s\"']+"
)
_SECRET_QUERY = re.compile(r"((?:^|[?&;\s])(?:token|api_key)=)[^&;#\s\"']*", re.IGNORECASE)
# An API key wherever it appears (a header echoed in an error, a pasted URL): the public
# lookup part stays, so a log reader can still tell which key it was.
_API_KEY = re.compile(r"\b(cl_[a-z0-9]{12}_)[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
REDACTED = "[redacted]"

#: The id of the request being served, or of the request that enqueued the running job.
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cryptolens_request_id", default=None
)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(request_id: str | None) -> contextvars.Token[str | None]:
    return _request_id.set(request_id)


def reset_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Log records made inside carry ``request_id`` (a job runs under its request's id)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Gives every record a ``request_id`` attribute: its own ``extra=``, else the current one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        return True


def redact(text: str) -> str:
    """``text`` with emailed tokens in paths, token=/api_key= query values and API keys'
    secrets replaced."""
    text = _TOKEN_PATH.sub(rf"\g<1>{REDACTED}", text)
    return _API_KEY.sub(rf"\g<1>{REDACTED}", _SECRET_QUERY.sub(rf"\g<1>{REDACTED}", text))


class RedactingFilter(logging.Filter):
    """Redacts secrets (see ``redact``) in the formatted message of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object, with any ``extra=`` fields included."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [request id]``; with ``colour``, the level in ANSI colour."""

    COLOURS = {
        logging.DEBUG: "\x1b[2m",
        logging.INFO: "\x1b[32m",
        logging.WARNING: "\x1b[33m",
        logging.ERROR: "\x1b[31m",
        logging.CRITICAL: "\x1b[1;31m",
    }
    RESET = "\x1b[0m"

    def __init__(self, *, colour: bool = False) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            line = f"{line} [rid={request_id}]"
        if not self.colour:
            return line
        colour = self.COLOURS.get(record.levelno, "")
        level = record.levelname
        return line.replace(f" {level}", f" {colour}{level}{self.RESET}", 1)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def make_formatter(log_format: LogFormat, stream: Any) -> logging.Formatter:
    """JSON, plain text, or text coloured only when ``stream`` is a terminal (a file or a
    pipe to a log collector gets no escape codes)."""
    if log_format is LogFormat.JSON:
        return JsonFormatter()
    return TextFormatter(colour=log_format is LogFormat.COLORED and _is_terminal(stream))


def configure_logging(settings: Settings, stream: Any = None) -> None:
    """Install one handler on the ``cryptolens`` logger according to settings."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(settings.log_format, handler.stream))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("cryptolens")
    for existing in list(logger.handlers):
        logger.removeHandler(existing)
    # On the handler for every cryptolens.* record; on the logger for Flask's own error
    # log ("Exception on /auth/reset/<token>"), which is the app logger "cryptolens".
    handler.addFilter(RedactingFilter())
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    logger.addHandler(handler)
    logger.setLevel(settings.log_level)
    logger.propagate = False
