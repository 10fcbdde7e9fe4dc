"""Fault injection: the ways a real exchange misbehaves, on demand and reproducibly.

A :class:`FaultRule` fires on a matching request with its ``probability``, at most ``count``
times (None: no limit), once ``after`` matching requests have gone by unharmed. Rules are
tried in order and the first that fires decides the request's fault, so one request suffers
at most one fault. Random choices come from one RNG seeded by the caller; each request draws
its own sub-seed under a lock, so a sequential client sees the same faults on every run
(concurrent clients interleave their draws, by nature).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    RATE_LIMIT = "rate_limit"  # HTTP 429 + Retry-After, Binance code -1003
    BAN = "ban"  # HTTP 418 + Retry-After: Binance's answer to ignoring 429s
    SERVER_ERROR = "server_error"  # HTTP 500/502/503/504 (``status`` or a random one)
    SLOW = "slow"  # answer correctly, but only after ``delay_s``
    DISCONNECT = "disconnect"  # close the connection without answering
    MALFORMED = "malformed"  # corrupt ``rows`` klines: NaN/"abc" price, high<low, negatives
    DUPLICATE = "duplicate"  # repeat ``rows`` klines right after themselves
    MISSING = "missing"  # drop ``rows`` klines from the answer


#: Faults that change a /klines body rather than the HTTP exchange itself.
DATA_FAULTS = frozenset({FaultKind.MALFORMED, FaultKind.DUPLICATE, FaultKind.MISSING})
SERVER_ERROR_STATUSES = (500, 502, 503, 504)
CORRUPTIONS = ("nan", "not_a_number", "high_below_low", "negative_price", "negative_volume")


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One kind of misbehaviour and when to show it.

    ``endpoints`` are path tails such as ``"klines"`` or ``"exchangeInfo"`` (empty: every
    public endpoint; data faults only ever affect ``klines``); ``symbols`` are unified symbols
    such as ``"BTC/USDT"`` (empty: all, including requests without a symbol).
    """

    kind: FaultKind
    probability: float = 1.0
    count: int | None = None
    after: int = 0
    endpoints: frozenset[str] = frozenset()
    symbols: frozenset[str] = frozenset()
    status: int | None = None
    retry_after_s: int = 1
    delay_s: float = 2.0
    rows: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if (self.count is not None and self.count < 0) or self.after < 0:
            raise ValueError("count and after must be >= 0")
        if self.rows < 1:
            raise ValueError("rows must be >= 1")

    def matches(self, endpoint: str, symbol: str | None) -> bool:
        if self.endpoints and endpoint not in self.endpoints:
            return False
        if self.kind in DATA_FAULTS and endpoint != "klines":
            return False
        return not self.symbols or symbol in self.symbols

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FaultRule:
        """From the admin endpoint's JSON (lists for endpoints/symbols)."""
        values = dict(data)
        values["kind"] = FaultKind(str(values["kind"]))
        for name in ("endpoints", "symbols"):
            raw = values.get(name) or []
            if not isinstance(raw, list | tuple | set | frozenset):
                raise ValueError(f"{name} must be a list")
            values[name] = frozenset(str(item) for item in raw)
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**values)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["endpoints"] = sorted(self.endpoints)
        data["symbols"] = sorted(self.symbols)
        return data


@dataclass(slots=True)
class _ArmedRule:
    rule: FaultRule
    remaining: int | None
    matched: int = 0
    fired: int = 0


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault that fired for one request, with the RNG to apply it reproducibly."""

    rule: FaultRule
    rng: random.Random = field(compare=False)

    @property
    def kind(self) -> FaultKind:
        return self.rule.kind


class FaultInjector:
    """The server's current fault rules, their remaining counts and the seeded RNG."""

    def __init__(self, rules: Iterable[FaultRule] = (), *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._armed: list[_ArmedRule] = []
        self._rng = random.Random(seed)
        self._fired: Counter[FaultKind] = Counter()
        self.set_rules(rules, seed=seed)

    def set_rules(self, rules: Iterable[FaultRule], *, seed: int | None = None) -> None:
        """Replace every rule (and reseed, if ``seed`` is given)."""
        with self._lock:
            self._armed = [_ArmedRule(rule, rule.count) for rule in rules]
            if seed is not None:
                self._rng = random.Random(seed)

    def add(self, *rules: FaultRule) -> None:
        with self._lock:
            self._armed.extend(_ArmedRule(rule, rule.count) for rule in rules)

    def clear(self) -> None:
        with self._lock:
            self._armed = []

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        with self._lock:
            return tuple(armed.rule for armed in self._armed)

    def fired(self) -> dict[str, int]:
        """How often each kind has fired since the server started (or stats were reset)."""
        with self._lock:
            return {str(kind): n for kind, n in self._fired.items()}

    def reset_counts(self) -> None:
        with self._lock:
            self._fired.clear()

    def draw(self, endpoint: str, symbol: str | None) -> Fault | None:
        """Decide this request's fault, if any (consumes counts and RNG draws)."""
        with self._lock:
            for armed in self._armed:
                if armed.remaining == 0 or not armed.rule.matches(endpoint, symbol):
                    continue
                armed.matched += 1
                if armed.matched <= armed.rule.after:
                    continue
                if armed.rule.probability < 1.0 and self._rng.random() >= armed.rule.probability:
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                armed.fired += 1
                self._fired[armed.rule.kind] += 1
                return Fault(armed.rule, random.Random(self._rng.getrandbits(64)))
            return None


def server_error_status(fault: Fault) -> int:
    return fault.rule.status or fault.rng.choice(SERVER_ERROR_STATUSES)


def apply_data_fault(fault: Fault, rows: list[list[object]]) -> list[list[object]]:
    """The klines body after ``fault`` (MALFORMED, DUPLICATE or MISSING) has hit it."""
    if not rows or fault.kind not in DATA_FAULTS:
        return rows
    rng = fault.rng
    picked = sorted(rng.sample(range(len(rows)), min(fault.rule.rows, len(rows))))
    if fault.kind is FaultKind.MISSING:
        dropped = set(picked)
        return [row for i, row in enumerate(rows) if i not in dropped]
    if fault.kind is FaultKind.DUPLICATE:
        doubled = set(picked)
        out: list[list[object]] = []
        for i, row in enumerate(rows):
            out.append(row)
            if i in doubled:
                out.append(list(row))
        return out
    out = [list(row) for row in rows]
    for i in picked:
        out[i] = corrupt_row(out[i], rng.choice(CORRUPTIONS))
    return out


def corrupt_row(row: list[object], how: str) -> list[object]:
    """A copy of a Binance kline row made invalid in one specific way."""
    bad = list(row)
    low = float(str(bad[3]))
    if how == "nan":
        bad[4] = "NaN"
    elif how == "not_a_number":
        bad[1] = "abc"
    elif how == "high_below_low":
        bad[2] = f"{low * 0.9:.8f}"  # below low whatever the candle's range was
    elif how == "negative_price":
        bad[3] = f"{-abs(low) - 1.0:.8f}"
    elif how == "negative_volume":
        bad[5] = f"{-abs(float(str(bad[5]))) - 1.0:.8f}"
    else:
        raise ValueError(f"unknown corruption {how!r}")
    return bad
