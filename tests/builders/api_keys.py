"""API keys made straight through the service, as the account page or the CLI would."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from flask import Flask

from cryptolens.extensions import db
from cryptolens.services.accounts.accounts import load_account
from cryptolens.services.accounts.api_keys import KeyOptions, create_key, key_pepper
from tests.builders.settings import TEST_SECRET

PEPPER = key_pepper(TEST_SECRET)


def make_key(
    app: Flask,
    user_id: int,
    *,
    scopes: Sequence[str] = ("read:signals",),
    name: str = "bot",
    **options: object,
) -> tuple[int, str]:
    """A new key of ``user_id`` (a Premium user or an admin): its id and plaintext."""
    with app.app_context():
        now = datetime.now(UTC)
        owner = load_account(db.session(), user_id=user_id, now=now)
        assert owner is not None
        info, plaintext = create_key(
            db.session(),
            owner=owner,
            options=KeyOptions(name=name, scopes=scopes, **options),  # type: ignore[arg-type]
            pepper=PEPPER,
            now=now,
        )
        db.session.commit()
    return info.id, plaintext
