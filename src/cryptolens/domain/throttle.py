"""Attempt limits over moving windows: how long a refused attempt must wait (pure arithmetic)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` attempts in any ``seconds``-long window."""

    count: int
    seconds: int

    @property
    def window_ms(self) -> int:
        return self.seconds * 1000


def horizon_ms(limits: Sequence[Limit]) -> int:
    """How far back attempts matter for these limits."""
    return max(limit.window_ms for limit in limits)


def retry_after(times_ms: Sequence[int], *, now_ms: int, limits: Sequence[Limit]) -> int | None:
    """Whole seconds until another attempt would be allowed, or None if the newest attempt
    (``times_ms`` includes it) is within every limit.

    Refused attempts are recorded too, so trying again before this wait only extends it.
    """
    wait_ms = 0
    for limit in limits:
        recent = sorted(t for t in times_ms if t > now_ms - limit.window_ms)
        if len(recent) <= limit.count:
            continue
        # The next attempt is allowed once at most count - 1 earlier ones remain in its window.
        frees_at = recent[len(recent) - limit.count] + limit.window_ms
        wait_ms = max(wait_ms, frees_at - now_ms)
    if not wait_ms:
        return None
    return max(1, math.ceil(wait_ms / 1000))


def describe_wait(seconds: int) -> str:
    """A wait in words, rounded up to the unit a person would use."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    hours = math.ceil(seconds / 3600)
    return f"{hours} hours"
