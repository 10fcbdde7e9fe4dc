"""Building answers: the envelope model filled with ``data`` and ``meta``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from cryptolens.web.api.v1.models import Meta, Out
from cryptolens.web.envelope import envelope_meta

Answer = tuple[Out, int]


def answer(model: type[Out], data: Any, *, status: int = 200, **meta: Any) -> Answer:
    """``model`` (an envelope) around ``data``; lists get ``meta.count``."""
    if isinstance(data, list) and "count" not in meta:
        meta["count"] = len(data)
    envelope = model.model_validate(
        {"success": True, "data": data, "error": None, "meta": Meta(**envelope_meta(meta))}
    )
    return envelope, status


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(kind: type) -> tuple[str, ...]:
    names = _NAMES.get(kind)
    if names is None:
        names = _NAMES[kind] = tuple(field.name for field in fields(kind))
    return names


def shallow(row: Any) -> dict[str, Any]:
    """A dataclass as a dict of its fields (no deep copy)."""
    return {name: getattr(row, name) for name in _names(type(row))}


def rows(found: Iterable[Any]) -> list[dict[str, Any]]:
    return [shallow(row) for row in found]
