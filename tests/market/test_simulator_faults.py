"""Fault injection in the simulator, seen from plain HTTP (no exchange client involved)."""

from __future__ import annotations

import http.client
import threading
import time

import pytest

from cryptolens.market.simulator import FaultInjector, FaultKind, FaultRule, SimulatorServer
from cryptolens.market.simulator.faults import Fault, apply_data_fault, corrupt_row
from cryptolens.market.validation import RejectReason, validate_ohlcv
from tests.builders.market import MINUTE, T0, SimFactory, exact_dataset, http_json

KLINES = f"/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={T0}&limit=20"


@pytest.fixture
def sim(make_sim: SimFactory) -> SimulatorServer:
    return make_sim(
        {"BTC/USDT": exact_dataset(100), "ETH/USDT": exact_dataset(100, seed=2)},
        start_at_ms=T0 + 100 * MINUTE,
    )


def get(sim: SimulatorServer, path: str = KLINES) -> tuple[int, object, dict[str, str]]:
    return http_json(sim.base_url + path)


def test_a_rate_limit_fault_answers_429_with_retry_after_and_code_1003(
    sim: SimulatorServer,
) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.RATE_LIMIT, count=1, retry_after_s=3)])
    status, body, headers = get(sim)
    assert (status, body["code"], headers["Retry-After"]) == (429, -1003, "3")
    assert get(sim)[0] == 200  # count=1: only the first request suffers


def test_a_ban_fault_answers_418(sim: SimulatorServer) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.BAN, count=1, retry_after_s=60)])
    status, _, headers = get(sim)
    assert (status, headers["Retry-After"]) == (418, "60")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_faults_answer_the_requested_status(sim: SimulatorServer, status: int) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.SERVER_ERROR, status=status)])
    assert get(sim)[0] == status


def test_unspecified_server_errors_vary_over_5xx_reproducibly(sim: SimulatorServer) -> None:
    def statuses(seed: int) -> list[int]:
        sim.faults.set_rules([FaultRule(FaultKind.SERVER_ERROR)], seed=seed)
        return [get(sim)[0] for _ in range(12)]

    first = statuses(5)
    assert set(first) <= {500, 502, 503, 504}
    assert len(set(first)) > 1
    assert statuses(5) == first


def test_probability_faults_follow_the_seed(sim: SimulatorServer) -> None:
    def pattern(seed: int) -> list[int]:
        sim.faults.set_rules(
            [FaultRule(FaultKind.SERVER_ERROR, probability=0.3, status=503)], seed=seed
        )
        return [get(sim)[0] for _ in range(40)]

    first = pattern(11)
    assert 3 <= first.count(503) <= 25
    assert pattern(11) == first
    assert pattern(12) != first


def test_after_lets_the_first_matching_requests_through(sim: SimulatorServer) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.SERVER_ERROR, status=500, after=2, count=1)])
    assert [get(sim)[0] for _ in range(4)] == [200, 200, 500, 200]


def test_endpoint_and_symbol_filters_target_faults(sim: SimulatorServer) -> None:
    sim.faults.set_rules(
        [
            FaultRule(
                FaultKind.SERVER_ERROR,
                status=503,
                endpoints=frozenset({"klines"}),
                symbols=frozenset({"ETH/USDT"}),
            )
        ]
    )
    assert get(sim, "/api/v3/time")[0] == 200
    assert get(sim)[0] == 200
    assert get(sim, KLINES.replace("BTCUSDT", "ETHUSDT"))[0] == 503


def test_a_slow_fault_answers_correctly_once_its_delay_is_over(sim: SimulatorServer) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.SLOW, count=1, delay_s=0.01)])
    status, rows, _ = get(sim)
    assert status == 200
    assert len(rows) == 20
    assert sim.stats().faults == {"slow": 1}


def test_a_slow_fault_holds_the_request_until_the_simulator_stops(sim: SimulatorServer) -> None:
    # A minute's delay: the answer can only come early if the fault did not hold it.
    sim.faults.set_rules([FaultRule(FaultKind.SLOW, count=1, delay_s=60.0)])
    answers: list[object] = []
    caller = threading.Thread(target=lambda: answers.append(sim.handle("GET", KLINES)))
    caller.start()
    deadline = time.monotonic() + 30
    while sim.stats().in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sim.stats().in_flight == 1
    sim.stop()  # wakes the held request, which is dropped rather than answered
    caller.join(timeout=30)
    assert answers == [None]
    assert sim.stats().in_flight == 0


def test_a_disconnect_fault_hangs_up_without_an_answer(sim: SimulatorServer) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.DISCONNECT, count=1)])
    host, port = sim.address
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", KLINES)
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            connection.getresponse()
    finally:
        connection.close()
    assert get(sim)[0] == 200


def test_a_missing_fault_drops_rows_from_inside_the_answer(sim: SimulatorServer) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.MISSING, count=1, rows=3)])
    rows = get(sim)[1]
    assert len(rows) == 17
    assert len(get(sim)[1]) == 20


def test_a_duplicate_fault_repeats_rows_next_to_themselves(sim: SimulatorServer) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.DUPLICATE, count=1, rows=2)])
    rows = get(sim)[1]
    assert len(rows) == 22
    times = [r[0] for r in rows]
    assert sorted(times) == times
    assert len(set(times)) == 20


def test_every_malformed_row_fails_validation(sim: SimulatorServer) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.MALFORMED, count=1, rows=5)])
    result = validate_ohlcv(get(sim)[1], "1m")
    assert result.rejected == 5
    assert len(result.candles) == 15


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("nan", RejectReason.NOT_FINITE),
        ("not_a_number", RejectReason.NON_NUMERIC),
        ("high_below_low", RejectReason.HIGH_BELOW_LOW),
        ("negative_price", RejectReason.NON_POSITIVE_PRICE),
        ("negative_volume", RejectReason.NEGATIVE_VOLUME),
    ],
)
def test_each_corruption_is_caught_by_its_own_validation_rule(
    how: str, reason: RejectReason
) -> None:
    good = [T0, "10.00000000", "12.00000000", "9.00000000", "11.00000000", "5.00000000"]
    assert dict(validate_ohlcv([corrupt_row(good, how)], "1m").rejects) == {reason: 1}


def test_data_faults_only_ever_touch_klines(sim: SimulatorServer) -> None:
    sim.faults.set_rules([FaultRule(FaultKind.MISSING)])
    assert get(sim, "/api/v3/time")[0] == 200
    assert sim.stats().faults == {}


def test_faults_are_installed_and_cleared_over_the_admin_api(sim: SimulatorServer) -> None:
    rules = [{"kind": "server_error", "status": 502, "count": 2, "endpoints": ["klines"]}]
    status, body, _ = http_json(
        f"{sim.base_url}/_sim/faults", method="POST", payload={"rules": rules, "seed": 3}
    )
    assert status == 200
    assert body["rules"][0]["kind"] == "server_error"
    assert [get(sim)[0] for _ in range(3)] == [502, 502, 200]
    assert http_json(f"{sim.base_url}/_sim/stats")[1]["faults"] == {"server_error": 2}
    http_json(f"{sim.base_url}/_sim/faults", method="POST", payload={"rules": rules})
    http_json(f"{sim.base_url}/_sim/faults", method="DELETE")
    assert get(sim)[0] == 200
    bad = http_json(
        f"{sim.base_url}/_sim/faults", method="POST", payload={"rules": [{"kind": "x"}]}
    )
    assert bad[0] == 400


def test_fault_rules_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="probability"):
        FaultRule(FaultKind.SLOW, probability=2.0)
    with pytest.raises(ValueError, match="unknown fault fields"):
        FaultRule.from_json({"kind": "slow", "delay": 1})


def test_a_data_fault_on_an_empty_answer_changes_nothing() -> None:
    injector = FaultInjector([FaultRule(FaultKind.MISSING)], seed=1)
    fault = injector.draw("klines", None)
    assert isinstance(fault, Fault)
    assert apply_data_fault(fault, []) == []
