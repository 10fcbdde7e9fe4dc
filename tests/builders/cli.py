"""The in-process command runner's type (the ``invoke`` fixture of tests/commands)."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

#: ``invoke("market", "backfill", ...)`` runs ``cryptolens ARGS`` and returns click's result.
Invoke = Callable[..., Result]
