"""Reading recorded metrics back: in this process, or from a scrape's text."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from cryptolens.infra.metrics import REGISTRY


def recorded(sample: str, **labels: str) -> float:
    """The sum of this process's samples named ``sample`` whose labels include ``labels``."""
    return sum(
        s.value
        for family in REGISTRY.collect()
        for s in family.samples
        if s.name == sample and labels.items() <= s.labels.items()
    )


def scraped(text: str, sample: str, **labels: str) -> float:
    """The same sum over a scrape's text (Prometheus exposition format)."""
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sample and labels.items() <= s.labels.items()
    )


def label_values(text: str, sample: str, label: str) -> set[str]:
    """Every value ``label`` takes among a scrape's ``sample`` samples."""
    return {
        s.labels[label]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sample and label in s.labels
    }
