"""Portfolio fixtures: plans switched off for one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from cryptolens.services.accounts import policy


@pytest.fixture
def plans_off(app: Flask) -> Iterator[None]:
    """After the app is built (``create_app`` sets the switch from its settings)."""
    policy.configure(plans_enabled=False)
    yield
    policy.configure(plans_enabled=True)
