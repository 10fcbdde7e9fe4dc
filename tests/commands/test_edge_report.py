"""``cryptolens edge-report`` on the shipped BTC/USD history: the text tables, the JSON, the
stored report reused while data, code and parameters are unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cryptolens import create_app
from cryptolens.cli import cli
from cryptolens.quality.stats import wilson
from tests.builders.settings import make_settings

TIMEFRAMES = ("1h", "1d")


def run(tmp_path: Path, *args: str, seed: int = 20) -> Result:
    """``cryptolens edge-report ARGS`` in-process (the model left out: it is slow)."""
    settings = make_settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        instance_dir=tmp_path / "instance",
        base_timeframe="1h",
        timeframes=TIMEFRAMES,
        edge_seed=seed,
        edge_placebo_draws=2,
    )
    app = create_app(settings)
    with app.app_context():
        return app.test_cli_runner().invoke(cli, args=["edge-report", "--without-model", *args])


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The whole report, model included, from the command run in its own process."""
    tmp_path = tmp_path_factory.mktemp("edge")
    env = {
        **os.environ,
        "CRYPTOLENS_ENV": "testing",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "BASE_TIMEFRAME": "1h",
        "TIMEFRAMES": ",".join(TIMEFRAMES),
        "EDGE_PLACEBO_DRAWS": "2",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "cryptolens", "edge-report", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    assert json.loads((tmp_path / "instance" / "edge-report.json").read_text()) == parsed
    return parsed


@pytest.mark.slow
def test_hold_rows_figures_follow_from_their_counts(report: dict[str, Any]) -> None:
    holds = report["holds"]
    assert {h["timeframe"] for h in holds} == set(TIMEFRAMES)
    for h in holds:
        for side in ("real", "placebo"):
            tally = h[side]
            assert tally["decided"] == tally["held"] + tally["failed"]
            expected = wilson(tally["held"], tally["decided"])
            if expected is None:
                assert tally["rate"] is None
            else:
                assert tally["rate"]["value"] == pytest.approx(expected.value)
                assert tally["rate"]["low"] == pytest.approx(expected.low)
                assert tally["rate"]["high"] == pytest.approx(expected.high)
        assert h["small"] == (min(h["real"]["decided"], h["placebo"]["decided"]) < 30)
        diff = h["difference"]
        if h["verdict"] == "edge":
            assert diff["low"] > 0
        elif h["verdict"] == "worse than chance":
            assert diff["high"] < 0
        else:
            assert diff is None or diff["low"] <= 0 <= diff["high"]
    assert any(h["small"] for h in holds)  # daily sweeps and order blocks are few


@pytest.mark.slow
def test_report_says_where_it_comes_from_and_how_signals_did_after_fees(
    report: dict[str, Any],
) -> None:
    assert report["data"] == {
        "file": "coinbase_btcusd_1h.csv.gz",
        "source": "shipped history (Coinbase BTC/USD, 1h)",
    }
    assert report["candles"] == 20_111
    params = report["params"]
    assert (params["seed"], params["placebo_draws"], params["taker_fee_bps"]) == (20, 2, 10.0)
    everything = report["signals"][0]
    assert everything["scope"] == "all"
    assert everything["trades"] > 30
    r = everything["expectancy_r"]
    assert r["low"] <= r["value"] <= r["high"]


@pytest.mark.slow
def test_model_section_has_an_auc_per_type_and_ten_reliability_bins(
    report: dict[str, Any],
) -> None:
    model = report["model"]
    assert report["params"]["model"] is True
    assert [a["pattern_type"] for a in model["aucs"]] == [
        "fvg",
        "liquidity_sweep",
        "order_block",
        "all",
    ]
    for row in model["aucs"]:
        assert 0 < row["auc"] < 1
    bins = model["reliability"]
    assert len(bins) == 10
    assert sum(b["zones"] for b in bins) == model["zones"] == model["aucs"][-1]["zones"]


def test_text_report_prints_the_tables_then_reuses_the_stored_report(tmp_path: Path) -> None:
    first = run(tmp_path)
    assert first.exit_code == 0, first.output
    assert "Hold rate of real zones against placebo zones" in first.output
    assert "order_block" in first.output
    assert "liquidity_sweep" in first.output
    assert "no edge" in first.output
    assert "expectancy R" in first.output
    assert "computed without the model" in first.output
    assert "computed now and stored in" in first.output
    stored = tmp_path / "instance" / "edge-report.json"
    computed_at = json.loads(stored.read_text())["computed_at"]
    second = run(tmp_path)
    assert "data, code and parameters unchanged" in second.output
    assert json.loads(stored.read_text())["computed_at"] == computed_at
    refreshed = run(tmp_path, "--refresh")
    assert "computed now" in refreshed.output
    # Another seed is another report: the stored one is not current for it.
    other = run(tmp_path, seed=21)
    assert "computed now" in other.output
    assert json.loads(stored.read_text())["params"]["seed"] == 21


def test_a_damaged_stored_report_is_computed_again(tmp_path: Path) -> None:
    stored = tmp_path / "instance" / "edge-report.json"
    stored.parent.mkdir(parents=True)
    stored.write_text("{not json")
    result = run(tmp_path)
    assert result.exit_code == 0, result.output
    assert "computed now" in result.output
    assert json.loads(stored.read_text())["candles"] == 20_111


def test_an_instance_folder_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    (tmp_path / "instance").write_text("a file where the folder should be")
    result = run(tmp_path)
    assert result.exit_code == 1
    assert "cannot store the report in" in result.output
    assert "Traceback" not in result.output
