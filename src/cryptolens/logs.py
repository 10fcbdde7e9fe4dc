"""Logging set up from settings: readable text for people, one JSON object a line for machines."""

from __future__ import annotations

import json
import logging
import re
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


def configure_logging(settings: Settings) -> None:
    """Install one handler on the ``cryptolens`` logger according to settings."""
    handler = logging.StreamHandler()
    if settings.log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
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
