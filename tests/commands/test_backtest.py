"""``cryptolens backtest`` on stored real BTC/USD hours: the metrics table, the trades as JSON,
and bad input named before any work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import Engine

from cryptolens import create_app
from cryptolens.backtest.engine import run_backtest
from cryptolens.backtest.params import run_params
from cryptolens.cli import cli
from cryptolens.detect import Candles
from cryptolens.extensions import db
from cryptolens.market.simulator.demo import demo_datasets
from tests.builders.cli import Invoke
from tests.builders.db import add_symbol, clear_tables, store
from tests.builders.settings import make_settings

pytestmark = pytest.mark.db

DAYS = 60
TIMEFRAMES = ("1h", "2h", "4h", "1d")


@pytest.fixture(scope="module")
def hours() -> Candles:
    ds = demo_datasets()["BTC/USDT"]
    return Candles(ds.open_time, ds.open, ds.high, ds.low, ds.close, ds.volume)[: DAYS * 24]


@pytest.fixture
def run(
    migrated_engine: Engine, database_url: str, tmp_path: Path, hours: Candles
) -> Iterator[Invoke]:
    clear_tables(migrated_engine)
    settings = make_settings(
        database_url=database_url,
        base_timeframe="1h",
        timeframes=TIMEFRAMES,
        instance_dir=tmp_path / "instance",
    )
    store(migrated_engine, settings, add_symbol(migrated_engine, "BTC/USDT"), hours)
    apps: list[Flask] = []

    def invoke(*args: str) -> Result:
        app = create_app(settings)
        apps.append(app)
        with app.app_context():
            return app.test_cli_runner().invoke(cli, args=list(args))

    yield invoke
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    clear_tables(migrated_engine)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def test_the_backtest_prints_the_metrics_and_writes_every_trade(
    run: Invoke, hours: Candles, tmp_path: Path
) -> None:
    since, until = _day(int(hours.open_time[0]) + 86_400_000), _day(int(hours.open_time[-1]))
    out = tmp_path / "trades.json"
    answer = run(
        "backtest", "--symbol", "BTC/USDT", "--since", since, "--until", until,
        "--param", "min_confluence=2", "--fee-bps", "10", "--json", str(out),
    )  # fmt: skip
    assert answer.exit_code == 0, answer.output
    for label in ("Return", "Sharpe", "Max drawdown", "Profit factor", "SQN", "Ambiguous"):
        assert label in answer.output
    written = json.loads(out.read_text())
    assert written["params"] == {"min_confluence": 2, "maker_fee_bps": 10.0, "taker_fee_bps": 10.0}
    trades = written["trades"]
    assert trades
    assert written["metrics"]["trades"] == len(trades)
    first = trades[0]
    assert set(first) >= {
        "entry_time", "entry_price", "exit_time", "exit_price", "size", "fees", "r_multiple",
        "exit_reason",
    }  # fmt: skip
    # The same trades as the engine run on the same candles with the same rules.
    start = datetime.fromisoformat(since).replace(tzinfo=UTC).timestamp() * 1000
    end = datetime.fromisoformat(until).replace(tzinfo=UTC).timestamp() * 1000
    lo, hi = np.searchsorted(hours.open_time, [start, end])
    settings = make_settings(base_timeframe="1h", timeframes=TIMEFRAMES)
    chosen = run_params(
        {"min_confluence": 2, "maker_fee_bps": 10.0, "taker_fee_bps": 10.0},
        signals=settings.signal_params(),
    )
    expected = run_backtest(
        hours[int(lo) : int(hi)],
        base_timeframe="1h",
        timeframes=TIMEFRAMES,
        symbol="BTC/USDT",
        signals=chosen.signals,
        execution=chosen.execution,
    )
    assert [t["pnl"] for t in trades] == [t.pnl for t in expected.trades]
    assert written["metrics"]["final_equity"] == pytest.approx(expected.final_equity)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--param", "bogus=1"), "unknown backtest parameter bogus"),
        (("--param", "min_confluence=9"), "min_confluence must be between 1 and 8"),
        (("--param", "min_confluence"), "--param takes name=value"),
        (("--param", "tp1_r=3"), "targets_r must be three increasing"),
        (("--since", "2030-01-01", "--until", "2030-02-01"), "no stored 1h candles"),
        (("--since", "yesterday"), "is not a date"),
        (("--symbol", "DOGE/USDT"), "DOGE/USDT is not watched"),
    ],
)
def test_bad_input_is_named_without_a_trace(
    run: Invoke, hours: Candles, args: tuple[str, ...], message: str
) -> None:
    base = {"--symbol": "BTC/USDT", "--since": "2017-07-02", "--until": "2017-08-01"}
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    extra = [a for k, v in pairs.items() if k == "--param" for a in (k, v)]
    merged = base | {k: v for k, v in pairs.items() if k != "--param"}
    answer = run("backtest", *[a for kv in merged.items() for a in kv], *extra)
    assert answer.exit_code != 0
    assert message in answer.output
    assert "Traceback" not in answer.output


def test_a_sweep_ranks_its_combinations_and_writes_every_row(run: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    answer = run(
        "backtest", "--symbol", "BTC/USDT", "--since", "2017-07-02", "--until", "2017-08-25",
        "--sweep", "min_confluence=1,2", "--sweep", "stop_atr=0.5:1.5:0.5",
        "--rank", "total_return", "--json", str(out),
    )  # fmt: skip
    assert answer.exit_code == 0, answer.output
    assert "6 combinations ranked by total_return" in answer.output
    rows = json.loads(out.read_text())["rows"]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, 5, 6]
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert {(r["params"]["min_confluence"], r["params"]["stop_atr"]) for r in rows} == {
        (c, s) for c in (1, 2) for s in (0.5, 1.0, 1.5)
    }


def test_a_walk_forward_prints_each_split(run: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "wf.json"
    answer = run(
        "backtest", "--symbol", "BTC/USDT", "--since", "2017-07-02", "--until", "2017-08-29",
        "--sweep", "min_confluence=1,2", "--walk-forward", "20:10", "--json", str(out),
    )  # fmt: skip
    assert answer.exit_code == 0, answer.output
    splits = json.loads(out.read_text())["splits"]
    assert len(splits) == 3
    assert "split 0: in" in answer.output
    for split in splits:
        assert split["split"]["out_start"] >= split["split"]["in_end"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sweep", "bogus=1,2"), "bogus"),
        (("--sweep", "min_confluence=1:8:1", "--sweep", "stop_atr=0.1:10:0.05"), "exceed"),
        (("--sweep", "min_confluence=1,2", "--rank", "luck"), "unknown ranking metric"),
        (("--sweep", "min_confluence=1,2", "--walk-forward", "90"), "walk-forward takes IN:OUT"),
    ],
)
def test_bad_sweeps_are_named_before_any_work(
    run: Invoke, args: tuple[str, ...], message: str
) -> None:
    answer = run(
        "backtest", "--symbol", "BTC/USDT", "--since", "2017-07-02", "--until", "2017-08-01",
        *args,
    )  # fmt: skip
    assert answer.exit_code != 0
    assert message in answer.output
    assert "Traceback" not in answer.output
