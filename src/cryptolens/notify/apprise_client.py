"""The three things CryptoLens asks of Apprise (validate a URL, show it without secrets, send
one message), behind plain typed functions so the rest of ``notify`` never sees Apprise's API.

Apprise does its own HTTP (with ``requests``), so ``send`` blocks: ``notify.send`` runs it in a
thread. Apprise is imported on first use (about 0.1 s, and its plugins on the first URL), so
starting the web app or the CLI does not pay for it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import apprise

# Apprise's log lines name topics, hosts and (for a malformed one) bot tokens, at every level:
# they go nowhere, and notify.send logs the outcome with the redacted target instead.
_apprise_log = logging.getLogger("apprise")
_apprise_log.propagate = False
_apprise_log.addHandler(logging.NullHandler())


def _load(url: str) -> apprise.Apprise | None:
    """An Apprise holding exactly ``url``, or None when Apprise does not accept it."""
    import apprise  # deferred: see the module docstring

    client = apprise.Apprise()
    if not client.add(url) or len(client) != 1:
        return None
    return client


def is_valid(url: str) -> bool:
    return _load(url) is not None


def private_url(url: str) -> str:
    """Apprise's own privacy form of ``url`` (passwords and tokens masked); ``scheme://…``
    when Apprise does not accept it."""
    client = _load(url)
    if client is None:
        return url.partition("://")[0] + "://…"
    return str(client[0].url(privacy=True))  # type: ignore[no-untyped-call]


def send(url: str, *, title: str, body: str, timeout: float) -> bool | None:
    """Send through Apprise: True sent, False failed (maybe passing), None not a valid URL."""
    client = _load(url)
    if client is None:
        return None
    return bool(client.notify(body=body, title=title, timeout=timeout))
