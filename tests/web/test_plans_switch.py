"""PLANS_ENABLED=false: a one-person install has no tiers, so a Free account opens the pages
Free would be refused; with the default (true) nothing changes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from cryptolens.config import Settings
from cryptolens.services.accounts import policy
from tests.web.accounts_helpers import signed_in_client


@pytest.fixture
def switch_back() -> Iterator[None]:
    yield
    policy.configure(plans_enabled=True)


@pytest.fixture(params=[True, False], ids=["plans", "no-plans"])
def settings(request: pytest.FixtureRequest, settings: Settings, switch_back: None) -> Settings:
    return settings.model_copy(update={"plans_enabled": request.param})


def test_a_free_account_opens_the_pro_pages_only_without_plans(
    app: Flask, settings: Settings
) -> None:
    client = signed_in_client(app, "free@example.com")
    expected = 200 if not settings.plans_enabled else 403
    assert client.get("/patterns").status_code == expected
    assert client.get("/signals").status_code == expected
