"""The /edge page: every verified user reads the stored report (never computed by the page),
with its source, its verdicts, small samples flagged, and a warning when it is stale."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from flask import Flask

from cryptolens.domain.enums import Direction, PatternType
from cryptolens.quality.edge_model import model_section
from cryptolens.quality.walkforward import ScoredZone
from cryptolens.runtime import app_settings
from cryptolens.services.quality.edge_report import compute_report
from cryptolens.services.quality.edge_store import cache_path, save_report
from tests.web.accounts_helpers import make_user, sign_in, signed_in_client

pytestmark = pytest.mark.db

COMPUTED = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def store_report(app: Flask, *, model: bool = False) -> dict[str, Any]:
    """The real report without the model (quick), stored; ``model`` adds a model section
    from synthetic out-of-sample scores."""
    settings = app_settings(app)
    report = compute_report(settings, now=COMPUTED, with_model=False)
    if model:
        rng = np.random.default_rng(0)
        p = rng.random(400)
        scored = [
            ScoredZone(PatternType.FVG, "1h", Direction.BULLISH, 0, float(x), 0.5, bool(h))
            for x, h in zip(p, rng.random(400) < p, strict=True)
        ]
        report["model"] = json.loads(json.dumps(dataclasses.asdict(model_section(scored))))
    save_report(settings, report)
    return report


def test_a_free_verified_user_reads_the_stored_report(app: Flask) -> None:
    report = store_report(app)
    page = signed_in_client(app, "free@example.com").get("/edge")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="nav-edge"' in html
    assert "2026-11-30" in html  # when it was computed
    assert "20,111 candles" in html
    assert "shipped history (Coinbase BTC/USD, 1h)" in html
    rows = html.split('id="hold-table"')[1].split("</table>")[0].count("<tr")
    assert rows == len(report["holds"]) + 1
    assert "no edge" in html
    assert 'id="edge-stale"' not in html
    # The daily order blocks are few: flagged.
    assert any(h["small"] for h in report["holds"])
    assert "small sample" in html
    assert "computed without the model" in html
    assert f"{report['signals'][0]['trades']:,}" in html


def test_the_model_section_shows_aucs_and_the_reliability_table(app: Flask) -> None:
    store_report(app, model=True)
    html = signed_in_client(app, "pro@example.com", plan="pro").get("/edge").get_data(as_text=True)
    assert 'id="auc-table"' in html
    table = html.split('id="reliability-table"')[1].split("</table>")[0]
    assert table.count("<tr") == 11
    assert "90\u2013100 %" in table  # an en dash between the bounds


def test_without_a_stored_report_the_page_says_how_to_make_one(app: Flask) -> None:
    html = signed_in_client(app, "someone@example.com").get("/edge").get_data(as_text=True)
    assert 'id="edge-missing"' in html
    assert "cryptolens edge-report" in html


def test_a_report_from_other_code_or_data_is_shown_as_stale(app: Flask) -> None:
    report = store_report(app)
    path = cache_path(app_settings(app))
    path.write_text(json.dumps({**report, "key": "computed-by-an-older-version"}))
    html = signed_in_client(app, "reader@example.com").get("/edge").get_data(as_text=True)
    assert 'id="edge-stale"' in html
    assert 'id="hold-table"' in html


def test_a_damaged_stored_report_reads_as_missing(app: Flask) -> None:
    path = cache_path(app_settings(app))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"format": 1, "key": ')
    html = signed_in_client(app, "damaged@example.com").get("/edge").get_data(as_text=True)
    assert 'id="edge-missing"' in html


def test_anonymous_visitors_sign_in_first_and_unverified_users_verify_first(app: Flask) -> None:
    store_report(app)
    anonymous = app.test_client().get("/edge")
    assert anonymous.status_code == 302
    assert "/auth/login" in anonymous.headers["Location"]
    client = app.test_client()
    sign_in(client, make_user(app, "new@example.com", verified=False))
    unverified = client.get("/edge")
    assert unverified.status_code == 302
    assert "verify" in unverified.headers["Location"]
