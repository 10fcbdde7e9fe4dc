"""Who may open a view: every view is for verified, signed-in users unless marked otherwise.

The gate runs before every request (``security.register``); views opt out with ``public`` or
``signed_in`` and opt in to stricter rules with ``admin_only``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])
ACCESS_ATTR = "cryptolens_access"


class Access(IntEnum):
    PUBLIC = 0  # anyone, signed in or not
    SIGNED_IN = 1  # signed in, email verified or not (the verify-your-email page)
    VERIFIED = 2  # the default
    ADMIN = 3


def _mark(level: Access) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        setattr(view, ACCESS_ATTR, level)
        return view

    return decorate


public = _mark(Access.PUBLIC)
signed_in = _mark(Access.SIGNED_IN)
admin_only = _mark(Access.ADMIN)


def access_of(view: Callable[..., object] | None) -> Access:
    if view is None:
        return Access.PUBLIC
    level: Access = getattr(view, ACCESS_ATTR, Access.VERIFIED)
    return level
