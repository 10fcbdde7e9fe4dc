"""API v1 helpers: real keys made through the keys service, and calls carrying them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cryptolens.domain.api_scopes import RateLimits, Scope
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.accounts.accounts import load_account
from cryptolens.services.accounts.api_keys import KeyOptions, create_key, key_pepper

#: Nothing listens on the discard port: a scan or fetch in a thread fails in a millisecond.
CLOSED_EXCHANGE = "http://127.0.0.1:9"
ALL_SCOPES: tuple[str, ...] = tuple(s.value for s in Scope)


def make_key(
    app: Flask,
    user_id: int,
    scopes: Iterable[str] | None = None,
    *,
    limits: RateLimits | None = None,
    **options: Any,
) -> str:
    """The plaintext of a new key of ``user_id`` (who must hold the API) with ``scopes``
    (default: every scope the user may hold)."""
    now = datetime.now(UTC)
    with app.app_context():
        session = db.session()
        owner = load_account(session, user_id=user_id, now=now)
        assert owner is not None
        chosen = list(scopes) if scopes is not None else sorted(policy.api_scopes(owner))
        key_options = KeyOptions(
            name="test", scopes=chosen, limits=limits or RateLimits(), **options
        )
        pepper = key_pepper(app_settings(app).secret_key)
        _, plaintext = create_key(session, owner=owner, options=key_options, pepper=pepper, now=now)
        session.commit()
    return plaintext


def call(
    client: FlaskClient, method: str, path: str, key: str | None = None, **kwargs: Any
) -> TestResponse:
    """``method path`` with the key in the X-API-Key header (none: cookies only)."""
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["X-API-Key"] = key
    return client.open(path, method=method, headers=headers, **kwargs)
