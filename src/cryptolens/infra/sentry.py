"""Optional reporting to Sentry (SENTRY_DSN): error tracking hands each exception it records,
with its already scrubbed context, to the official SDK. Nothing else is sent: no automatic
integrations (they would report the same error a second time), no local variables (they may
hold a password), no personal data."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from cryptolens.config import Settings
from cryptolens.version import __version__

log = logging.getLogger(__name__)

_state = {"on": False}


def init_sentry(settings: Settings, *, transport: Any = None) -> bool:
    """Start the SDK when SENTRY_DSN is set (once per process); whether it reports."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk  # loaded only when configured

    options: dict[str, Any] = {
        "dsn": settings.sentry_dsn.get_secret_value(),
        "environment": settings.environment.value,
        "release": f"cryptolens@{__version__}",
        "default_integrations": False,
        "auto_enabling_integrations": False,
        "include_local_variables": False,
        "max_request_body_size": "never",
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)
    _state["on"] = True
    return True


def report(error: BaseException, *, source: str, context: Mapping[str, Any]) -> None:
    """Send ``error`` with its scrubbed ``context``; nothing when Sentry is not configured,
    and never raises."""
    if not _state["on"]:
        return
    try:
        import sentry_sdk

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("source", source)
            scope.set_context("cryptolens", dict(context))
            sentry_sdk.capture_exception(error)
    except Exception:
        log.warning("could not report an error to Sentry", exc_info=True)
