"""The three things CryptoLens asks of Apprise (validate a URL, show it without secrets, send
one message), behind plain typed functions so the rest of ``notify`` never sees Apprise's API.

Apprise does its own HTTP (with ``requests``), so ``send`` blocks: ``notify.send`` runs it in a
thread."""

from __future__ import annotations

import logging

import apprise

# Apprise's INFO/DEBUG lines may name the service URL; ours log the redacted target instead.
logging.getLogger("apprise").setLevel(logging.WARNING)


def _load(url: str) -> apprise.Apprise | None:
    """An Apprise holding exactly ``url``, or None when Apprise does not accept it."""
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
