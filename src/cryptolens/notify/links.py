"""Absolute links for messages, built from PUBLIC_URL and never from a request's Host
(a forged Host would otherwise receive the token). A test keeps the paths equal to the routes."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True, slots=True)
class PublicLinks:
    """``base`` is the site's public address without a trailing slash."""

    base: str

    def _at(self, path: str) -> str:
        return f"{self.base}{path}"

    def verify(self, token: str) -> str:
        return self._at(f"/auth/verify/{quote(token, safe='')}")

    def reset(self, token: str) -> str:
        return self._at(f"/auth/reset/{quote(token, safe='')}")

    def confirm_email(self, token: str) -> str:
        return self._at(f"/account/email/confirm/{quote(token, safe='')}")

    def forgot(self) -> str:
        return self._at("/auth/forgot")

    def billing(self) -> str:
        """The account's plan and payments page."""
        return self._at("/account/billing")

    def two_factor(self) -> str:
        return self._at("/account/two-factor")

    def signal(self, signal_id: int) -> str:
        return self._at(f"/signals/{int(signal_id)}")

    def chart(self, symbol: str, timeframe: str) -> str:
        """The symbol's chart page (``/symbols/BTC/USDT?timeframe=1h``)."""
        return self._at(f"/symbols/{quote(symbol, safe='/')}?{urlencode({'timeframe': timeframe})}")

    def notifications(self) -> str:
        return self._at("/account/notifications")

    def admin_errors(self) -> str:
        """The administrators' list of error groups."""
        return self._at("/admin/errors")
