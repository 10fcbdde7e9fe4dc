"""Rate-limit counters in this process without a timer thread per burst of requests.

``limits``' ``MemoryStorage`` starts a ``threading.Timer`` (10 ms) to drop expired counters
whenever none is running, so a process under steady load starts a thread about every 10 ms and
each request that does waits for it to be scheduled: measured, about 1.5 ms a request in-process
(``bench/api.py``). Expired counters are already ignored when read (``get`` checks the expiry),
so the sweep only frees memory: this storage does it inline, at most once a second, in the
request that happens to be due. Used for ``memory://`` limits (no ``REDIS_URL``).
"""

from __future__ import annotations

import threading
import time

from limits.storage import MemoryStorage

SCHEME = "cryptolens-memory"
#: Seconds between sweeps of expired counters.
SWEEP_EVERY = 1.0


class SweepingMemoryStorage(MemoryStorage):
    """``MemoryStorage`` whose expired entries are swept inline instead of by timer threads."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._sweep_lock = threading.Lock()
        self._next_sweep = time.monotonic() + SWEEP_EVERY

    # MemoryStorage calls this (name-mangled) private hook on every increment and event.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_EVERY
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweep_lock.release()
