"""API key scopes and the rules of a key's shape: what it may do, where from, how often.

Plain data and parsing only; the policy service decides who may hold which scope.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cryptolens.domain.errors import ValidationError

KEY_PREFIX = "cl_"
LOOKUP_LENGTH = 12
SECRET_LENGTH = 43  # 32 random bytes, url-safe base64 without padding
MAX_NAME_LENGTH = 100
MAX_IP_RULES = 50
LOOKUP_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_KEY = re.compile(
    rf"{KEY_PREFIX}([a-z0-9]{{{LOOKUP_LENGTH}}})_([A-Za-z0-9_-]{{{SECRET_LENGTH}}})", re.ASCII
)


class Scope(StrEnum):
    READ_SYMBOLS = "read:symbols"
    READ_MARKET = "read:market"
    READ_PATTERNS = "read:patterns"
    READ_SIGNALS = "read:signals"
    READ_ACCOUNT = "read:account"
    READ_PORTFOLIO = "read:portfolio"
    READ_STREAM = "read:stream"
    READ_BACKTEST = "read:backtest"
    WRITE_SCAN = "write:scan"
    WRITE_PORTFOLIO = "write:portfolio"
    WRITE_BACKTEST = "write:backtest"
    ADMIN_SCHEDULER = "admin:scheduler"
    ADMIN_SYMBOLS = "admin:symbols"

    @property
    def admin_only(self) -> bool:
        return self.value.startswith("admin:")


ADMIN_SCOPES: frozenset[Scope] = frozenset(s for s in Scope if s.admin_only)
USER_SCOPES: frozenset[Scope] = frozenset(s for s in Scope if not s.admin_only)


def parse_scopes(raw: Iterable[str]) -> frozenset[Scope]:
    """The named scopes (blank entries skipped); ValidationError naming an unknown one or none."""
    chosen: set[Scope] = set()
    for item in raw:
        name = item.strip().lower()
        if not name:
            continue
        try:
            chosen.add(Scope(name))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValidationError(f"Unknown scope {name[:40]!r}; use any of {known}.") from None
    if not chosen:
        raise ValidationError("Choose at least one scope.")
    return frozenset(chosen)


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: Iterable[str], *, field: str) -> tuple[str, ...]:
    """Addresses and CIDR ranges (IPv4 or IPv6) in canonical form; ValidationError naming
    ``field`` and the bad entry."""
    found: list[str] = []
    for item in raw:
        text = item.strip()
        if not text:
            continue
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValidationError(
                f"{field}: {text[:60]!r} is not an IP address or CIDR range "
                "(e.g. 10.0.0.0/8 or 2001:db8::/32)."
            ) from None
        if str(network) not in found:
            found.append(str(network))
    if len(found) > MAX_IP_RULES:
        raise ValidationError(f"{field}: at most {MAX_IP_RULES} entries.")
    return tuple(found)


def address_allowed(ip: str | None, *, allow: Iterable[str], deny: Iterable[str]) -> bool:
    """Deny wins; an empty allow list allows any address. An unknown or unparsable address
    passes only when there are no rules at all."""
    allow, deny = tuple(allow), tuple(deny)
    if not allow and not deny:
        return True
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in ipaddress.ip_network(n) for n in deny):
        return False
    return not allow or any(address in ipaddress.ip_network(n) for n in allow)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Requests allowed per minute, hour and day; None: no limit of that length."""

    minute: int | None = None
    hour: int | None = None
    day: int | None = None

    def as_tuple(self) -> tuple[int | None, int | None, int | None]:
        return (self.minute, self.hour, self.day)

    def within(self, ceiling: RateLimits) -> RateLimits:
        """These limits, each filled from ``ceiling`` where unset; ValidationError if one is
        above the ceiling or not positive."""
        values: list[int | None] = []
        for name, own, top in zip(
            ("minute", "hour", "day"), self.as_tuple(), ceiling.as_tuple(), strict=True
        ):
            if own is not None and own < 1:
                raise ValidationError(f"Requests per {name} must be at least 1.")
            if own is not None and top is not None and own > top:
                raise ValidationError(f"Requests per {name} may be at most {top} on your plan.")
            values.append(own if own is not None else top)
        return RateLimits(*values)


def parse_key(plaintext: str) -> tuple[str, str] | None:
    """(lookup id, secret) of a well-formed key, else None."""
    match = _KEY.fullmatch(plaintext.strip())
    return (match.group(1), match.group(2)) if match else None
