"""The alert for one signal, the same on every channel: a title a phone can show whole, the
levels in the body, a priority from confluence, the signal page on click and a chart button;
``data`` carries the figures as JSON for webhooks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cryptolens.notify.channel import Action, Message, Priority
from cryptolens.notify.links import PublicLinks

SIDES = {"bullish": "Long", "bearish": "Short"}
TAGS = {"bullish": "chart_with_upwards_trend", "bearish": "chart_with_downwards_trend"}
#: Significant digits of a price, from BTC to micro caps (the pages show the same).
PRICE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class SignalSummary:
    """What an alert says about a signal; ``created_at`` is epoch ms on the exchange clock."""

    id: int
    symbol: str
    direction: str  # "bullish" | "bearish"
    confluence: int
    timeframes: tuple[str, ...]
    pattern_types: tuple[str, ...]
    entry: float
    stop: float
    target_1: float
    target_2: float
    target_3: float
    risk_reward: float
    created_at: int

    def as_json(self) -> dict[str, Any]:
        """A JSON-able dict of every field (non-finite numbers become null)."""
        return {
            "id": self.id,
            "symbol": self.symbol,
            "direction": self.direction,
            "confluence": self.confluence,
            "timeframes": list(self.timeframes),
            "pattern_types": list(self.pattern_types),
            "entry": _finite(self.entry),
            "stop": _finite(self.stop),
            "targets": [_finite(v) for v in (self.target_1, self.target_2, self.target_3)],
            "risk_reward": _finite(self.risk_reward),
            "created_at": self.created_at,
        }


def priority_for(confluence: int) -> Priority:
    """More timeframes agreeing, louder: 2 → default, 3 → high, 4 and more → urgent."""
    if confluence >= 4:
        return Priority.URGENT
    if confluence == 3:
        return Priority.HIGH
    return Priority.DEFAULT


def signal_message(summary: SignalSummary, links: PublicLinks) -> Message:
    """The alert for ``summary``; every link absolute, from ``links`` (PUBLIC_URL)."""
    side = SIDES.get(summary.direction, summary.direction.capitalize())
    count = len(summary.timeframes) or summary.confluence
    title = f"{summary.symbol} {side.lower()} · {count} TF"
    targets = " / ".join(format_price(v) for v in _targets(summary))
    lines = [
        f"{side} {summary.symbol}, confluence {summary.confluence}",
        f"Entry {format_price(summary.entry)} · Stop {format_price(summary.stop)}",
        f"Targets {targets}",
        f"R:R {summary.risk_reward:.2f}" if math.isfinite(summary.risk_reward) else "R:R —",
        "Timeframes " + (", ".join(summary.timeframes) or "—"),
        "Patterns " + (", ".join(p.replace("_", " ") for p in summary.pattern_types) or "—"),
    ]
    signal_url = links.signal(summary.id)
    actions = [Action("View signal", signal_url)]
    if summary.timeframes:
        actions.append(Action("View chart", links.chart(summary.symbol, summary.timeframes[0])))
    return Message(
        title=title,
        body="\n".join(lines),
        priority=priority_for(summary.confluence),
        tags=(TAGS.get(summary.direction, "bell"), _tag(summary.symbol)),
        click_url=signal_url,
        actions=tuple(actions),
        data={"signal": summary.as_json(), "url": signal_url},
    )


def format_price(value: float) -> str:
    """``64,123.5``, ``0.00001234``: PRICE_DIGITS significant digits, ``—`` when not finite."""
    if not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    decimals = max(0, PRICE_DIGITS - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def _targets(summary: SignalSummary) -> tuple[float, ...]:
    return (summary.target_1, summary.target_2, summary.target_3)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _tag(symbol: str) -> str:
    """ntfy shows unknown tags as text: ``BTC/USDT`` → ``BTC-USDT``."""
    return symbol.replace("/", "-")
