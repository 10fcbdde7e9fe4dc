"""The metric names: the architecture document's eleven, and every name the alert rules and
the Grafana dashboard in deploy/ query is one the application exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cryptolens.infra.metrics import REGISTRY
from cryptolens.services.ops.metrics_gauges import StoreCollector, StoreGauges, store_metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

#: The architecture document's "Prometheus Metrics" table, name by name.
DOCUMENTED = {
    "cryptolens_http_requests_total": "counter",
    "cryptolens_http_request_duration_seconds": "histogram",
    "cryptolens_patterns_active": "gauge",
    "cryptolens_signals_total": "counter",
    "cryptolens_notifications_sent_total": "counter",
    "cryptolens_users_active": "gauge",
    "cryptolens_subscriptions_active": "gauge",
    "cryptolens_cache_hits_total": "counter",
    "cryptolens_cache_misses_total": "counter",
    "cryptolens_job_queue_size": "gauge",
    "cryptolens_job_processing_seconds": "histogram",
}


class _Pipeline:
    def llen(self, _key: str) -> None:
        pass

    def execute(self) -> list[int]:
        return [0, 0, 0]


class _Redis:
    def pipeline(self, transaction: bool = True) -> _Pipeline:
        return _Pipeline()


def _exposed() -> dict[str, str]:
    """Every family the application can expose, name (as scraped) -> type."""
    found = StoreGauges(
        patterns=[("fvg", 1)],
        users=1,
        subscriptions=[("pro", 1)],
        market_now_ms=3_600_000,
        newest_base=[("BTC/USDT", 0)],
    )
    families = [
        *REGISTRY.collect(),
        *store_metrics(found, base_timeframe="1m", wall_ms=3_600_000),
        *StoreCollector(_broken_engine(), _Redis(), exchange="x", base_timeframe="1m").collect(),  # type: ignore[arg-type]
    ]
    return {(f"{f.name}_total" if f.type == "counter" else f.name): f.type for f in families}


def _broken_engine() -> Any:
    from sqlalchemy import create_engine

    return create_engine("sqlite:////nonexistent/dir/none.sqlite")


def test_the_eleven_documented_metrics_are_exposed_with_their_types() -> None:
    exposed = _exposed()
    assert {name: exposed.get(name) for name in DOCUMENTED} == DOCUMENTED


@pytest.mark.parametrize(
    "path", ["prometheus/alerts.yml", "grafana/cryptolens-dashboard.json"], ids=str
)
def test_every_metric_the_deploy_files_query_is_exposed(path: str) -> None:
    text = (DEPLOY / path).read_text()
    if path.endswith(".json"):
        json.loads(text)  # valid JSON
    else:
        yaml = pytest.importorskip("yaml")
        rules = yaml.safe_load(text)["groups"][0]["rules"]
        assert {
            "CryptoLensIngestionStalled",
            "CryptoLensHighErrorRate",
            "CryptoLensQueueBacklog",
        } <= {r["alert"] for r in rules}
    exposed = _exposed()
    queried = set(re.findall(r"cryptolens_[a-z_]+", text))
    known = {
        name
        for base in exposed
        for name in (base, f"{base}_bucket", f"{base}_count", f"{base}_sum")
    }
    assert queried, path
    assert sorted(queried - known) == []
