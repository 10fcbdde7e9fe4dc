"""The exchange simulator over HTTP: Binance shapes and errors, resampling, the clock."""

from __future__ import annotations

import socket
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from cryptolens.market.simulator import (
    Dataset,
    SimulatorServer,
    build_demo_server,
    compute_klines,
    load_dataset,
    load_multi_symbol,
)
from tests.builders.market import (
    DAY,
    HOUR,
    MINUTE,
    T0,
    FakeClock,
    SimFactory,
    drop_rows,
    exact_dataset,
    http_json,
)


def klines(sim: SimulatorServer, **params: object) -> tuple[int, object, dict[str, str]]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return http_json(f"{sim.base_url}/api/v3/klines?{query}")


def oracle(data: Dataset, length_ms: int, *, offset_ms: int = 0) -> dict[int, tuple[float, ...]]:
    """Closed, complete buckets of ``length_ms`` computed the slow, obvious way."""
    groups: dict[int, list[int]] = defaultdict(list)
    for i, t in enumerate(data.open_time.tolist()):
        groups[t - (t - offset_ms) % length_ms].append(i)
    need = length_ms // data.step_ms
    out: dict[int, tuple[float, ...]] = {}
    for start, idx in groups.items():
        if len(idx) == need:
            out[start] = (
                float(data.open[idx[0]]),
                max(float(data.high[i]) for i in idx),
                min(float(data.low[i]) for i in idx),
                float(data.close[idx[-1]]),
                sum(float(data.volume[i]) for i in idx),
            )
    return out


def parse(rows: object) -> dict[int, tuple[float, ...]]:
    assert isinstance(rows, list)
    return {int(r[0]): tuple(float(x) for x in r[1:6]) for r in rows}


def test_exchange_info_lists_each_symbol_as_a_trading_spot_market(make_sim: SimFactory) -> None:
    data = exact_dataset(10)
    sim = make_sim({"BTC/USDT": data, "ETH/BTC": data})
    status, body, _ = http_json(f"{sim.base_url}/api/v3/exchangeInfo")
    assert status == 200
    by_id = {s["symbol"]: s for s in body["symbols"]}
    assert set(by_id) == {"BTCUSDT", "ETHBTC"}
    btc = by_id["BTCUSDT"]
    assert (btc["status"], btc["baseAsset"], btc["quoteAsset"]) == ("TRADING", "BTC", "USDT")
    assert btc["permissionSets"] == [["SPOT"]]
    assert {f["filterType"] for f in btc["filters"]} >= {"PRICE_FILTER", "LOT_SIZE"}
    assert body["serverTime"] == sim.now_ms()


def test_exchange_info_for_an_unknown_symbol_is_binance_error_1121(make_sim: SimFactory) -> None:
    sim = make_sim({"BTC/USDT": exact_dataset(10)})
    status, body, _ = http_json(f"{sim.base_url}/api/v3/exchangeInfo?symbol=NOPEUSDT")
    assert (status, body) == (400, {"code": -1121, "msg": "Invalid symbol."})


def test_ping_and_time_answer_like_binance(make_sim: SimFactory) -> None:
    sim = make_sim({"BTC/USDT": exact_dataset(10)}, start_at_ms=T0 + 5 * MINUTE)
    assert http_json(f"{sim.base_url}/api/v3/ping")[:2] == (200, {})
    assert http_json(f"{sim.base_url}/api/v3/time")[:2] == (200, {"serverTime": T0 + 5 * MINUTE})


def test_klines_rows_have_binance_exact_twelve_field_shape(make_sim: SimFactory) -> None:
    data = exact_dataset(100)
    sim = make_sim({"BTC/USDT": data}, start_at_ms=T0 + 100 * MINUTE)
    status, rows, headers = klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0, limit=2)
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    first = rows[0]
    assert len(first) == 12
    assert first[0] == T0
    assert first[6] == T0 + MINUTE - 1
    assert isinstance(first[8], int)
    assert all(isinstance(first[i], str) for i in (1, 2, 3, 4, 5, 7, 9, 10, 11))
    assert first[1] == f"{data.open[0]:.8f}"
    assert first[11] == "0"


def test_klines_start_time_gives_the_oldest_and_no_start_the_newest(make_sim: SimFactory) -> None:
    data = exact_dataset(300)
    now = T0 + 200 * MINUTE  # candles 200..299 are in the future
    sim = make_sim({"BTC/USDT": data}, start_at_ms=now)
    _, oldest, _ = klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0 + 10 * MINUTE, limit=3)
    assert [r[0] for r in oldest] == [T0 + 10 * MINUTE, T0 + 11 * MINUTE, T0 + 12 * MINUTE]
    _, newest, _ = klines(sim, symbol="BTCUSDT", interval="1m", limit=3)
    assert [r[0] for r in newest] == [now - 2 * MINUTE, now - MINUTE, now]
    _, ending, _ = klines(sim, symbol="BTCUSDT", interval="1m", endTime=T0 + 50 * MINUTE, limit=2)
    assert [r[0] for r in ending] == [T0 + 49 * MINUTE, T0 + 50 * MINUTE]
    _, both, _ = klines(
        sim, symbol="BTCUSDT", interval="1m", startTime=T0, endTime=T0 + 2 * MINUTE, limit=500
    )
    assert len(both) == 3


def test_klines_limit_defaults_to_500_and_is_capped_at_1000(make_sim: SimFactory) -> None:
    sim = make_sim({"BTC/USDT": exact_dataset(2000)}, start_at_ms=T0 + 1999 * MINUTE)
    assert len(klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0)[1]) == 500
    assert len(klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0, limit=5000)[1]) == 1000


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"symbol": "NOPEUSDT", "interval": "1m"}, -1121),
        ({"symbol": "BTCUSDT", "interval": "7m"}, -1120),
        ({"symbol": "BTCUSDT", "interval": "1s"}, -1120),  # finer than the data
        ({"interval": "1m"}, -1102),
        ({"symbol": "BTCUSDT"}, -1102),
        ({"symbol": "BTCUSDT", "interval": "1m", "startTime": "yesterday"}, -1100),
        ({"symbol": "BTCUSDT", "interval": "1m", "limit": "0"}, -1130),
    ],
)
def test_bad_klines_requests_get_binance_error_codes(
    make_sim: SimFactory, params: dict[str, str], code: int
) -> None:
    sim = make_sim({"BTC/USDT": exact_dataset(10)})
    status, body, _ = klines(sim, **params)
    assert status == 400
    assert body["code"] == code


def test_an_unknown_path_is_a_404(make_sim: SimFactory) -> None:
    sim = make_sim({"BTC/USDT": exact_dataset(10)})
    assert http_json(f"{sim.base_url}/api/v3/depth?symbol=BTCUSDT")[0] == 404


def test_nothing_opening_after_now_is_returned_and_the_newest_is_forming(
    make_sim: SimFactory,
) -> None:
    data = exact_dataset(100)
    now = T0 + 50 * MINUTE + 15_000  # a quarter into the 51st candle
    sim = make_sim({"BTC/USDT": data}, start_at_ms=now)
    _, rows, _ = klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0, limit=1000)
    assert rows[-1][0] == T0 + 50 * MINUTE
    forming = [float(x) for x in rows[-1][1:6]]
    final = [data.open[50], data.high[50], data.low[50], data.close[50], data.volume[50]]
    assert forming[0] == final[0]  # it opened at the real open
    assert forming[3] != final[3]  # but has not reached its close
    assert forming[4] == pytest.approx(final[4] / 4, rel=1e-6)
    assert forming[2] <= min(forming[0], forming[3])
    assert forming[1] >= max(forming[0], forming[3])
    assert parse(rows[:-1]) == parse(
        [[int(data.open_time[i]), *map(str, data.row(i)[1:])] for i in range(50)]
    )


def test_a_forming_candle_becomes_the_final_one_once_it_closes(make_sim: SimFactory) -> None:
    data = exact_dataset(100)
    sim = make_sim({"BTC/USDT": data}, start_at_ms=T0 + 50 * MINUTE + 30_000)
    forming = klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0 + 50 * MINUTE)[1][0]
    sim.clock.advance(30_000)
    closed = klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0 + 50 * MINUTE)[1][0]
    assert forming[4] != closed[4]
    assert float(closed[4]) == data.close[50]


@pytest.mark.parametrize(
    ("interval", "length"), [("5m", 5 * MINUTE), ("1h", HOUR), ("4h", 4 * HOUR)]
)
def test_coarser_intervals_are_resampled_exactly(
    make_sim: SimFactory, minute_data: Dataset, interval: str, length: int
) -> None:
    sim = make_sim({"BTC/USDT": minute_data}, start_at_ms=minute_data.last_open_ms + MINUTE)
    _, rows, _ = klines(sim, symbol="BTCUSDT", interval=interval, startTime=T0, limit=1000)
    got = parse(rows)
    want = oracle(minute_data, length)
    assert got.keys() == want.keys()
    for start, values in want.items():
        assert got[start][:4] == values[:4]
        assert got[start][4] == pytest.approx(values[4], abs=1e-8)


def test_a_bucket_missing_any_base_candle_is_not_served(make_sim: SimFactory) -> None:
    holey = drop_rows(exact_dataset(60), [T0 + 7 * MINUTE])
    sim = make_sim({"BTC/USDT": holey}, start_at_ms=T0 + 60 * MINUTE)
    _, rows, _ = klines(sim, symbol="BTCUSDT", interval="5m", startTime=T0, limit=100)
    starts = [r[0] for r in rows]
    assert T0 + 5 * MINUTE not in starts
    assert starts[:2] == [T0, T0 + 10 * MINUTE]
    _, base_rows, _ = klines(
        sim, symbol="BTCUSDT", interval="1m", startTime=T0 + 6 * MINUTE, limit=2
    )
    assert [r[0] for r in base_rows] == [T0 + 6 * MINUTE, T0 + 8 * MINUTE]


def test_a_page_after_a_long_gap_continues_with_the_data_behind_it(make_sim: SimFactory) -> None:
    data = exact_dataset(5000)
    gap = [int(t) for t in data.open_time[100:4000]]
    sim = make_sim({"BTC/USDT": drop_rows(data, gap)}, start_at_ms=T0 + 5000 * MINUTE)
    _, rows, _ = klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0 + 50 * MINUTE, limit=100)
    starts = [r[0] for r in rows]
    assert starts[49] == T0 + 99 * MINUTE
    assert starts[50] == T0 + 4000 * MINUTE


def test_weeks_open_on_monday_and_months_on_the_first(make_sim: SimFactory) -> None:
    daily = exact_dataset(122, step_ms=DAY)  # from Monday 2024-01-01 to May 1st
    sim = make_sim({"BTC/USDT": daily}, start_at_ms=T0 + 121 * DAY)  # May 1st, 00:00
    _, weeks, _ = klines(sim, symbol="BTCUSDT", interval="1w", startTime=T0, limit=3)
    assert [r[0] for r in weeks] == [T0, T0 + 7 * DAY, T0 + 14 * DAY]
    assert weeks[0][6] == T0 + 7 * DAY - 1
    _, months, _ = klines(sim, symbol="BTCUSDT", interval="1M", startTime=T0, limit=10)
    feb, mar, apr, may = T0 + 31 * DAY, T0 + 60 * DAY, T0 + 91 * DAY, T0 + 121 * DAY
    assert [r[0] for r in months] == [T0, feb, mar, apr, may]  # May is forming
    assert months[1][6] == mar - 1
    assert float(months[1][1]) == daily.open[31]
    assert float(months[1][4]) == daily.close[59]
    assert months[-1][4] == months[-1][1]  # May has only just opened


def test_compute_klines_is_a_pure_function_of_data_and_now(minute_data: Dataset) -> None:
    now = T0 + 600 * MINUTE + 1234
    a = compute_klines(minute_data, "15m", start_ms=T0, end_ms=None, limit=100, now_ms=now)
    b = compute_klines(minute_data, "15m", start_ms=T0, end_ms=None, limit=100, now_ms=now)
    assert a.to_binance_rows() == b.to_binance_rows()
    assert int(a.open_time[-1]) == T0 + 600 * MINUTE  # the forming 15m bucket


def test_the_clock_runs_at_the_configured_speed(make_sim: SimFactory) -> None:
    wall = FakeClock()
    sim = make_sim({"BTC/USDT": exact_dataset(10)}, start_at_ms=T0, speed=3600.0, wall=wall)
    first = http_json(f"{sim.base_url}/api/v3/time")[1]["serverTime"]
    wall.now += 0.25  # a quarter of a wall second...
    second = http_json(f"{sim.base_url}/api/v3/time")[1]["serverTime"]
    assert (first, second) == (T0, T0 + HOUR // 4)  # ...is a quarter of a market hour


def test_a_revised_candle_is_served_with_its_new_values(make_sim: SimFactory) -> None:
    data = exact_dataset(60)
    sim = make_sim({"BTC/USDT": data}, start_at_ms=T0 + 60 * MINUTE)
    sim.revise_candle("BTC/USDT", T0 + 3 * MINUTE, close=float(data.close[3]) + 1.0)
    row = klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0 + 3 * MINUTE, limit=1)[1][0]
    assert float(row[4]) == data.close[3] + 1.0
    _, five, _ = klines(sim, symbol="BTCUSDT", interval="5m", startTime=T0, limit=1)
    assert float(five[0][4]) == data.close[4]  # the 5m close is minute 4's, untouched
    with pytest.raises(KeyError):
        sim.revise_candle("BTC/USDT", T0 + 30_000, close=1.0)


def test_the_admin_api_revises_candles_and_moves_the_clock(make_sim: SimFactory) -> None:
    data = exact_dataset(60)
    sim = make_sim({"BTC/USDT": data}, start_at_ms=T0 + 10 * MINUTE)
    status, _, _ = http_json(
        f"{sim.base_url}/_sim/revise",
        method="POST",
        payload={"symbol": "BTC/USDT", "open_time": T0, "volume": 42.5},
    )
    assert status == 200
    assert (
        float(klines(sim, symbol="BTCUSDT", interval="1m", startTime=T0, limit=1)[1][0][5]) == 42.5
    )
    _, clock, _ = http_json(
        f"{sim.base_url}/_sim/clock", method="POST", payload={"advance_ms": MINUTE}
    )
    assert clock == {"now_ms": T0 + 11 * MINUTE, "speed": 0.0}
    status, body, _ = http_json(
        f"{sim.base_url}/_sim/revise", method="POST", payload={"open_time": 1}
    )
    assert status == 400
    assert "symbol" in body["error"]


def test_a_delisted_symbol_leaves_exchange_info_and_klines(make_sim: SimFactory) -> None:
    sim = make_sim({"BTC/USDT": exact_dataset(10), "ETH/USDT": exact_dataset(10)})
    sim.delist_symbol("ETH/USDT")
    body = http_json(f"{sim.base_url}/api/v3/exchangeInfo")[1]
    assert [s["symbol"] for s in body["symbols"]] == ["BTCUSDT"]
    assert klines(sim, symbol="ETHUSDT", interval="1m")[1]["code"] == -1121


def test_stats_count_public_requests_but_not_admin_ones(make_sim: SimFactory) -> None:
    sim = make_sim({"BTC/USDT": exact_dataset(10)})
    http_json(f"{sim.base_url}/api/v3/ping")
    http_json(f"{sim.base_url}/api/v3/time")
    http_json(f"{sim.base_url}/api/v3/time")
    status, stats, _ = http_json(f"{sim.base_url}/_sim/stats")
    assert status == 200
    assert stats["by_endpoint"] == {"ping": 1, "time": 2}
    assert stats["max_in_flight"] == 1
    sim.reset_stats()
    assert sim.stats().requests == 0


def test_the_server_stops_cleanly_and_frees_its_port() -> None:
    with SimulatorServer({"BTC/USDT": exact_dataset(10)}) as sim:
        host, port = sim.address
        assert http_json(f"{sim.base_url}/api/v3/ping")[0] == 200
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))  # would fail with EADDRINUSE if still listening


def test_datasets_load_from_csv_and_multi_symbol_tables(tmp_path: Path) -> None:
    single = tmp_path / "one.csv.gz"
    data = exact_dataset(5)
    import pandas as pd

    frame = pd.DataFrame({"open_time": data.open_time, "open": data.open, "high": data.high})
    frame = frame.assign(low=data.low, close=data.close, volume=data.volume)
    frame.to_csv(single, index=False)
    loaded = load_dataset(single)
    assert loaded.step_ms == MINUTE
    assert np.array_equal(loaded.close, data.close)
    multi = tmp_path / "many.csv"
    pd.concat([frame.assign(symbol="A/B"), frame.assign(symbol="C/D")]).to_csv(multi, index=False)
    assert set(load_multi_symbol(multi)) == {"A/B", "C/D"}


def test_datasets_refuse_unsorted_or_misaligned_times() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        Dataset.from_arrays(
            [2 * MINUTE, MINUTE], [1, 1], [1, 1], [1, 1], [1, 1], [1, 1], step_ms=MINUTE
        )
    with pytest.raises(ValueError, match="multiples"):
        Dataset.from_arrays([1, MINUTE + 1], [1, 1], [1, 1], [1, 1], [1, 1], [1, 1], step_ms=MINUTE)


def test_the_demo_server_serves_the_shipped_history() -> None:
    with build_demo_server(speed=0) as sim:
        assert {"BTC/USDT", "ETH/USDT", "BTC/USD"} <= {x.symbol for x in sim.book.listings()}
        assert sim.book.dataset("BTC/USDT").step_ms == HOUR
        assert len(sim.book.dataset("BTC/USDT")) == 20_111
        _, rows, _ = klines(sim, symbol="BTCUSDT", interval="1h", limit=5)
        assert len(rows) == 5
        assert rows[-1][0] <= sim.now_ms()
        _, daily, _ = klines(sim, symbol="ETHUSDT", interval="1d", limit=5)
        assert len(daily) == 5
