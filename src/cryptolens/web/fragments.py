"""Rendered page sections kept for a short while: the heaviest parts of the busiest pages.

Zones and signals change at most once a scan (a minute), so serving the same rendered table
for a few seconds costs no freshness a trader can see, and spares the query and the
rendering of every row. Keys carry everything the section depends on (filters, page, what
the viewer's plan may see), so one viewer's section is never served to another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from markupsafe import Markup

from cryptolens.extensions import cache
from cryptolens.infra import metrics

#: Lists (patterns, signals): short, so a page never lags the scanner by more than this.
LIST_TTL_S = 10
#: The dashboard matrix: the heaviest read, and it only changes once a scan.
MATRIX_TTL_S = 60
#: The landing page's chart and track record: public, so anyone can ask for it often.
LANDING_TTL_S = 60


def fragment_key(name: str, parts: Mapping[str, object]) -> str:
    """A cache key from a name and the values the fragment depends on (order-independent)."""
    return name + ":" + "&".join(f"{k}={parts[k]}" for k in sorted(parts))


def cached_html(key: str, ttl_s: int, render: Callable[[], str]) -> Markup:
    """``render()``'s output, from the cache when it holds ``key``."""
    html: str | None = cache.get(key)
    metrics.count_cache(key.partition(":")[0], hit=html is not None)
    if html is None:
        html = render()
        cache.set(key, html, timeout=ttl_s)
    return Markup(html)  # noqa: S704  (our own templates' output, escaped when rendered)
