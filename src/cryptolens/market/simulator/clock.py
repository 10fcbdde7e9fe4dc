"""The simulator's market clock: ``now = anchor + (wall - wall_at_anchor) * speed``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SimClock:
    """Market time in epoch ms, running ``speed`` times faster than the wall clock.

    ``speed`` 0 freezes the market (handy in tests, with :meth:`set` / :meth:`advance` to move
    it by hand); 3600 plays one market hour per wall second. Thread-safe.
    """

    def __init__(
        self, anchor_ms: int, *, speed: float = 1.0, wall: Callable[[], float] = time.monotonic
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._wall = wall
        self._lock = threading.Lock()
        self._anchor_ms = int(anchor_ms)
        self._wall_at_anchor = wall()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    def now_ms(self) -> int:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> int:
        elapsed = self._wall() - self._wall_at_anchor
        return self._anchor_ms + int(elapsed * 1000.0 * self._speed)

    def set(self, *, now_ms: int | None = None, speed: float | None = None) -> None:
        """Jump to ``now_ms`` and/or change speed; the clock runs on from here."""
        with self._lock:
            current = self._now_locked()
            self._anchor_ms = current if now_ms is None else int(now_ms)
            self._wall_at_anchor = self._wall()
            if speed is not None:
                if speed < 0:
                    raise ValueError("speed must be >= 0")
                self._speed = float(speed)

    def advance(self, ms: int) -> int:
        """Move market time forward by ``ms`` (e.g. let candles close in a frozen test)."""
        with self._lock:
            self._anchor_ms += int(ms)
            return self._now_locked()
